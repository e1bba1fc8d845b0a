// examples/common/job_checks.hpp: what a CIFAR job checks before it trains, so that a run
// that cannot succeed fails in seconds, not after an epoch.
#pragma once

#include <cstdint>
#include <filesystem>
#include <ostream>
#include <string>

#include "tinynet/core/error.hpp"
#include "tinynet/data/dataset.hpp"
#include "tinynet/layers/layer.hpp"

namespace tinynet_examples {

// requires: model built. ensures: an Error naming the job unless the model gives one score per
// class of `train`.
inline void check_model_fits_classes(const std::string& job, const tinynet::Layer<float>& model,
                                     const tinynet::ImageDataset& train) {
  const std::int64_t outputs = model.output_shape().numel();
  tinynet::check(outputs == train.num_classes(), job, ": the model gives ", outputs, " class scores but the dataset has ",
                 train.num_classes(), " classes; nothing was trained (this model needs a ", outputs,
                 "-class dataset such as CIFAR-10)");
}

// ensures: nothing when not resuming or `checkpoint` exists; otherwise an Error naming it, or
// (start_if_none) a note on `log` that the run starts from scratch.
inline void check_resume_possible(const std::string& job, bool resume, bool start_if_none,
                                  const std::string& checkpoint, std::ostream& log) {
  std::error_code ec;
  if (!resume || std::filesystem::exists(checkpoint, ec)) return;
  tinynet::check(start_if_none, job, ": --resume, but there is no checkpoint at '", checkpoint,
                 "' (--resume-or-start starts from scratch when there is none)");
  log << job << ": no checkpoint at " << checkpoint << ", starting from scratch" << std::endl;
}

}  // namespace tinynet_examples
