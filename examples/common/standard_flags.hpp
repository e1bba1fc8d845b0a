// examples/common/standard_flags.hpp: the flags every CIFAR example accepts.
#pragma once

#include "common/cli.hpp"

namespace tinynet_examples {

// ensures: --data, --epochs, --batch, --lr, --threads, --workers, --seed, --out, --limit,
// --device, --validation and --resume declared on `cli` (epochs/batch/lr default to the recipe's).
inline void add_standard_flags(CommandLine& cli, const std::string& default_out) {
  cli.option("data", "", "CIFAR-10 folder (binary release or image folder)");
  cli.option("epochs", "", "epochs (default: the recipe's, 15)");
  cli.option("batch", "", "batch size (default: the recipe's)");
  cli.option("lr", "", "learning rate, or the one-cycle peak (default: the recipe's)");
  cli.option("threads", "", "compute threads (default: TINYNET_NUM_THREADS or all cores)");
  cli.option("workers", "2", "augmentation worker threads");
  cli.option("seed", "1", "random seed");
  cli.option("out", default_out, "output folder (model, history, metrics)");
  cli.option("limit", "0", "use only N training and N/5 test images, evenly over the classes (quick runs)");
  cli.option("device", "cpu", "cpu, or cuda when built with -DTINYNET_WITH_CUDNN=ON");
  cli.option("validation", "", "fraction of the training set held out for validation, in [0, 1) (default: the recipe's)");
  cli.flag("resume", "continue from <out>/checkpoint.tnck");
}

}  // namespace tinynet_examples
