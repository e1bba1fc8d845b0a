// examples/common/recipes.hpp: the training recipes of the examples, in one place.
//
// notebook: the reference Keras notebook: its CNN, Adam 1e-3, batch 64, 15 epochs,
//           ImageDataGenerator(rotation 15, shifts 0.1, horizontal flip), [0,1] inputs.
// fast:     tinynet's own: a width-32 ResNet-9 style net, SGD Nesterov with one-cycle
//           learning rate, label smoothing 0.1, pad-4 random crop + flip + cutout 8,
//           per-channel standardisation, flip test-time augmentation.
#pragma once

#include <memory>
#include <string>

#include "common/cifar_job.hpp"
#include "common/cli.hpp"
#include "tinynet/data/normalize.hpp"
#include "tinynet/model/cifar_resnet.hpp"
#include "tinynet/model/notebook_cnn.hpp"
#include "tinynet/optim/adam.hpp"
#include "tinynet/optim/sgd.hpp"

namespace tinynet_examples {

// ensures: a BatchFormat converter applying `p` (thread-safe: it shares only `p`).
inline ImageConverter make_image_converter(Preprocessing p) {
  return [p](const ImageDataset& data, const std::int64_t* indices, std::int64_t count, float* out) {
    preprocess_into(data.images, indices, count, p, out);
  };
}

// The notebook's ImageDataGenerator(rotation_range=15, width_shift_range=0.1,
// height_shift_range=0.1, horizontal_flip=True).
inline AugmentOptions notebook_augmentation() {
  AugmentOptions a;
  a.rotation_range = 15;
  a.width_shift_range = 0.1;
  a.height_shift_range = 0.1;
  a.horizontal_flip = true;
  return a;
}

// requires: recipe "notebook" or "fast". ensures: the job with the recipe's defaults.
inline CifarJob scratch_recipe(const std::string& recipe, const ImageDataset& train) {
  CifarJob job;
  job.name = "scratch_cnn";
  job.approach = "CNN from scratch";
  if (recipe == "notebook") {
    job.epochs = 15;
    job.batch_size = 64;
    job.augment = notebook_augmentation();
    job.learning_rate = 1e-3;
    job.build = [](const CifarJob& j) { return make_notebook_cnn<float>(10, j.seed); };
    job.make_optimizer = [](const CifarJob& j) {
      AdamOptions o;
      o.lr = j.learning_rate;
      return std::make_unique<Adam<float>>(o);
    };
    job.make_schedule = [](const CifarJob& j) { return std::make_unique<ConstantLr>(j.learning_rate); };
    return job;
  }
  check(recipe == "fast", "unknown recipe '", recipe, "' (use notebook or fast)");
  job.name = "fast_resnet";
  job.approach = "Residual CNN from scratch (fast recipe)";
  job.epochs = 15;
  job.batch_size = 128;
  job.augment.horizontal_flip = true;
  job.augment.crop_padding = 4;
  job.augment.cutout_size = 8;
  job.label_smoothing = 0.1;
  job.flip_tta = true;
  job.format.convert = make_image_converter(Preprocessing::standardize(compute_channel_stats(train)));
  job.learning_rate = 0.1;  // the one-cycle peak
  job.build = [](const CifarJob&) { return make_cifar_resnet<float>(32); };
  job.make_optimizer = [](const CifarJob& j) {
    SgdOptions o;
    o.lr = j.learning_rate;
    o.momentum = 0.9;
    o.nesterov = true;
    o.weight_decay = 5e-4;
    return std::make_unique<SGD<float>>(o);
  };
  job.make_schedule = [](const CifarJob& j) { return std::make_unique<OneCycleLr>(j.learning_rate, j.epochs); };
  return job;
}

// ensures: --epochs, --batch, --lr, --seed, --workers, --out, --resume applied to the job.
inline void apply_common_flags(const CommandLine& cli, CifarJob& job) {
  if (cli.given("epochs")) job.epochs = static_cast<int>(cli.integer("epochs"));
  if (cli.given("batch")) job.batch_size = cli.integer("batch");
  job.seed = static_cast<std::uint64_t>(cli.integer("seed"));
  job.workers = static_cast<int>(cli.integer("workers"));
  job.out_dir = cli.text("out");
  job.resume = cli.is_set("resume");
  if (cli.given("lr")) job.learning_rate = cli.number("lr");
}

// ensures: with limit > 0, `limit` training and limit/5 test images, taken at an even
// stride so every class keeps its share (image folders are stored class by class).
inline void limit_dataset(TrainTestSplit& data, std::int64_t limit) {
  if (limit <= 0) return;
  auto strided = [](const ImageDataset& d, std::int64_t n) {
    n = std::min(n, d.size());
    std::vector<std::int64_t> idx;
    for (std::int64_t i = 0; i < n; ++i) idx.push_back(i * d.size() / n);
    return subset(d, idx);
  };
  data.train = strided(data.train, limit);
  data.test = strided(data.test, std::max<std::int64_t>(limit / 5, 1));
}

}  // namespace tinynet_examples
