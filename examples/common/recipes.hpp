// examples/common/recipes.hpp: the training recipes of the examples, in one place.
//
// notebook: the reference Keras notebook: its CNN, Adam 1e-3, batch 64, 15 epochs,
//           ImageDataGenerator(rotation 15, shifts 0.1, horizontal flip), [0,1] inputs; its
//           BatchNorms' momentum PyTorch's 0.9 (Keras' 0.99 on request).
// fast:     tinynet's own, after Keller Jordan's airbench94: the whitened CNN with GELU (a
//           patch-whitening stem computed from 5,000 training images, frozen but for its bias
//           in the first 3 epochs, identity-initialised convolutions, PyTorch's default init
//           elsewhere, BatchNorm biases at 64x the rate, logits scaled by 1/9), 15 epochs of
//           SGD Nesterov (momentum 0.85, batch 1024, last partial batch dropped, decoupled decay
//           0.0089) with a linear one-cycle rate peaking at 1.5 and Lookahead averaging from
//           epoch 3, label smoothing 0.2, random crops of reflection-padded (2 px) images +
//           alternating flips, per-channel standardisation, all 50,000 training images (no
//           validation split), six-view test-time augmentation (flip, one-pixel shifts; logits
//           averaged). FastRecipeFixes switches off each step taken towards airbench94.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "common/cifar_job.hpp"
#include "common/fast_recipe_fixes.hpp"
#include "tinynet/data/normalize.hpp"
#include "tinynet/data/patch_whitening.hpp"
#include "tinynet/layers/dropout.hpp"
#include "tinynet/model/notebook_cnn.hpp"
#include "tinynet/model/pretrained_resnet50.hpp"
#include "tinynet/model/whitened_cnn.hpp"
#include "tinynet/optim/adam.hpp"
#include "tinynet/optim/sgd.hpp"

namespace tinynet_examples {

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

// ensures: the ResNet50 fast recipe's optimisation: SGD Nesterov (momentum 0.9, decoupled
// weight decay 5e-3: about an L2 of 5e-4, as momentum 0.9 amplifies that 10x) with a
// one-cycle rate peaking at the job's learning_rate over its epochs.
inline void use_one_cycle_nesterov(CifarJob& job) {
  job.make_optimizer = [](const CifarJob& j) {
    SgdOptions o;
    o.lr = j.learning_rate;
    o.momentum = 0.9;
    o.nesterov = true;
    o.weight_decay = 5e-3;
    return std::make_unique<SGD<float>>(o);
  };
  job.make_schedule = [](const CifarJob& j) { return std::make_unique<OneCycleLr>(j.learning_rate, j.epochs); };
}

// The notebook recipe's BatchNorm momentum (Keras' sense): PyTorch's default, 0.9. With the
// notebook's own (Keras') 0.99 the moving statistics trail the weights, which Adam keeps moving
// at a constant rate, and the validation accuracy jumps between epochs, the last one included
// (docs/examples.md); a run with a momentum other than Keras' records it ("bn-momentum=M").
constexpr double kNotebookBnMomentum = 0.9;
constexpr double kKerasBnMomentum = 0.99;
constexpr const char* kBnMomentumEntry = "bn-momentum=";

// requires: `recipe_fixes` a notebook run's recorded departures from the notebook.
// ensures: the BatchNorm momentum it trained with: the "bn-momentum=M" entry's M, Keras' 0.99
// when there is none (runs before the entry existed); an unknown entry is an Error naming it.
inline double notebook_bn_momentum_from_fixes(const std::vector<std::string>& recipe_fixes) {
  double momentum = kKerasBnMomentum;
  const std::string prefix = kBnMomentumEntry;
  for (const std::string& entry : recipe_fixes) {
    check(entry.rfind(prefix, 0) == 0, "unknown notebook-recipe entry '", entry, "' (known: bn-momentum=M)");
    const char* value = entry.c_str() + prefix.size();
    char* end = nullptr;
    momentum = std::strtod(value, &end);
    check(end != value && *end == '\0' && momentum >= 0 && momentum <= 1, "notebook-recipe entry '", entry,
          "': the momentum must be a number in [0, 1]");
  }
  return momentum;
}

// requires: recipe "notebook" or "fast"; `train` the training set (the fast recipe
// standardises with its statistics and whitens with a sample of it); `fixes` the fast
// recipe's switches; `notebook_bn_momentum` the notebook CNN's BatchNorm momentum (Keras'
// sense). ensures: the job with the recipe's defaults; a momentum other than Keras' 0.99 is
// listed in recipe_fixes ("bn-momentum=M").
inline CifarJob scratch_recipe(const std::string& recipe, const ImageDataset& train, const FastRecipeFixes& fixes = {},
                               double notebook_bn_momentum = kNotebookBnMomentum) {
  CifarJob job;
  job.recipe = recipe;
  job.name = "scratch_cnn";
  job.approach = "CNN from scratch";
  if (recipe == "notebook") {
    job.epochs = 15;
    job.batch_size = 64;
    job.augment = notebook_augmentation();
    job.learning_rate = 1e-3;
    job.build = [notebook_bn_momentum](const CifarJob& j) {
      return make_notebook_cnn<float>(10, j.seed, true, notebook_bn_momentum);
    };
    if (notebook_bn_momentum != kKerasBnMomentum) {
      std::ostringstream change;
      change << kBnMomentumEntry << notebook_bn_momentum;
      job.recipe_fixes.push_back(change.str());
    }
    job.make_optimizer = [](const CifarJob& j) {
      AdamOptions o;
      o.lr = j.learning_rate;
      return std::make_unique<Adam<float>>(o);
    };
    job.make_schedule = [](const CifarJob& j) { return std::make_unique<ConstantLr>(j.learning_rate); };
    return job;
  }
  check(recipe == "fast", "unknown recipe '", recipe, "' (use notebook or fast)");
  job.name = "fast_cnn";
  job.approach = "Whitened CNN from scratch (fast recipe)";
  job.recipe_fixes = fast_recipe_fix_names(fixes);
  job.epochs = 15;  // 140-205 s each on the 2-core AVX2 EPYC; 11 fit in 30 minutes (docs/examples.md)
  job.batch_size = 1024;
  job.drop_last = fixes.drop_last;
  job.augment.horizontal_flip = true;
  job.augment.alternate_flips = true;  // each image mirrored in every other epoch
  job.augment.crop_padding = 2;
  job.augment.crop_reflect = fixes.reflect_crops;
  job.label_smoothing = 0.2;
  job.lookahead = LookaheadOptions{};  // airbench's: every 5 steps, slow share 0.95^5 (t/T)^3
  if (fixes.lookahead_epochs) {
    job.lookahead->start_epoch = 3;
    job.lookahead->reset_each_epoch = true;
  }
  job.validation_fraction = 0;  // trains on all 50,000 images, as airbench does (--validation 0.1 holds some out)
  job.tta.flip = true;  // and the views shifted by one pixel each way (airbench's level 2)
  job.tta.translate = 1;
  job.tta.average_logits = fixes.tta_logits;
  // Standardised with the training set's channel statistics (a saved run restores its own).
  if (train.size() > 0) job.preprocessing = Preprocessing::standardize(compute_channel_stats(train));
  job.learning_rate = 1.5;  // the peak: airbench's 11.5 per 1024 summed examples, as a mean-loss rate
  WhitenedCnnOptions model;
  model.activation = fixes.gelu ? Activation::gelu : Activation::relu;
  model.kernel_init = fixes.torch_init ? KernelInit::torch_default : KernelInit::glorot_uniform;
  job.build = [model](const CifarJob&) { return make_whitened_cnn<float>(model); };
  if (train.size() > 0) {
    // The stem whitens 2x2 patches of 5,000 training images: every tenth (image folders are
    // stored class by class, so this spreads them over the classes), or the first 5,000.
    const std::int64_t count = std::min<std::int64_t>(5000, train.size());
    std::vector<std::int64_t> sample(static_cast<std::size_t>(count));
    for (std::int64_t i = 0; i < count; ++i) sample[i] = fixes.whitening_sample ? i * train.size() / count : i;
    Tensor<float> images;
    preprocess_batch(train.images, sample, job.preprocessing, images);
    const Tensor<float> kernel = patch_whitening_kernel(images, whitening_patch, 5e-4);
    job.initialize_weights = [kernel](Sequential<float>& net) {
      auto& whitening = static_cast<Conv2D<float>&>(net.layer("whitening"));
      whitening.kernel().copy_from(kernel);
    };
  }
  if (fixes.whitening_bias) {  // airbench trains the stem's bias for 3 epochs, then freezes it
    job.first_phase_epochs = 3;
    job.first_phase_note = "train the whitening layer's bias too";
    job.set_phase = [](Sequential<float>& net, bool first_phase) { net.layer("whitening").set_trainable(first_phase); };
  }
  job.make_optimizer = [](const CifarJob& j) {
    SgdOptions o;
    o.lr = j.learning_rate;
    o.momentum = 0.85;
    o.nesterov = true;
    o.weight_decay = 0.0089;  // airbench's coupled 0.0153 per 1024, amplified by momentum, per unit rate
    return std::make_unique<SGD<float>>(o);
  };
  // airbench: from 0.2x up to the peak over 23% of the steps, then down to 0.07x, linearly.
  const AnnealShape shape = fixes.linear_schedule ? AnnealShape::linear : AnnealShape::cosine;
  job.make_schedule = [shape](const CifarJob& j) {
    return std::make_unique<OneCycleLr>(j.learning_rate, j.epochs, 0.23, 5, 2.86, shape);
  };
  return job;
}

// ensures: fn applied to `layer` and every layer nested in it.
inline void for_each_layer(Layer<float>& layer, const std::function<void(Layer<float>&)>& fn) {
  fn(layer);
  if (auto* composite = dynamic_cast<Composite<float>*>(&layer))
    for (std::size_t i = 0; i < composite->size(); ++i) for_each_layer(composite->layer(i), fn);
}

struct ResNet50Settings {
  std::string recipe = "notebook";  // "notebook" or "fast" (see resnet50_recipe)
  std::string weights;          // .h5 / TF.js folder / .tnck; "" = random initialisation
  std::int64_t size = 0;        // input resolution (images resized to size x size); 0: the recipe's
  bool caffe_preprocessing = true;  // false: the notebook's [0,1] RGB inputs
  bool bn_frozen = false;       // keep the base's BatchNorm layers in inference mode
  int head_epochs = 0;          // > 0: train only the head for this many epochs first
};

// requires: settings.recipe "notebook" or "fast".
// ensures: a fine-tuning job on the notebook's model: ResNet50 base (global average
// pooling) + Dense 256 ReLU, Dropout 0.5, Dense 10, images resized to settings.size with
// tf.image.resize semantics, batch 64.
//   notebook: 48x48, Adam 1e-4, 15 epochs, the notebook's augmentation.
//   fast:     96x96, 5 epochs of SGD Nesterov (momentum 0.9, decoupled decay 5e-3) with
//             a one-cycle rate peaking at 0.005, label smoothing 0.1, pad-4 crop + flip at
//             32x32 before the resize, flip test-time augmentation.
inline CifarJob resnet50_recipe(const ResNet50Settings& settings) {
  check(settings.recipe == "notebook" || settings.recipe == "fast", "unknown ResNet50 recipe '", settings.recipe,
        "' (use notebook or fast)");
  CifarJob job;
  job.recipe = settings.recipe;
  job.name = "resnet50";
  job.approach = settings.weights.empty() ? "ResNet50, random initialisation" : "ResNet50 fine-tuned (ImageNet)";
  job.epochs = 15;
  job.batch_size = 64;
  job.learning_rate = 1e-4;
  job.augment = notebook_augmentation();
  job.input_size = settings.size > 0 ? settings.size : settings.recipe == "fast" ? 96 : 48;
  if (settings.caffe_preprocessing) job.preprocessing = Preprocessing::caffe();
  job.build = [](const CifarJob& j) {
    auto net = std::make_unique<Sequential<float>>("resnet50_finetune");
    net->add(make_resnet50<float>());
    net->add<Dense<float>>(256);
    net->add<ReLU<float>>();
    net->add<Dropout<float>>(0.5, j.seed);
    net->add<Dense<float>>(10);
    return net;
  };
  if (!settings.weights.empty()) {
    const std::string path = settings.weights;
    job.initialize_weights = [path](Sequential<float>& net) {
      auto& base = static_cast<Sequential<float>&>(net.layer("resnet50"));
      const ResNet50WeightReport r = load_pretrained_resnet50(base, path);
      std::cout << "resnet50: loaded " << r.tensors_loaded << " tensors (" << r.values_loaded << " values, "
                << r.scheme << " names) from " << path << std::endl;
    };
  }
  job.make_optimizer = [](const CifarJob& j) {
    AdamOptions o;
    o.lr = j.learning_rate;
    return std::make_unique<Adam<float>>(o);
  };
  job.make_schedule = [](const CifarJob& j) { return std::make_unique<ConstantLr>(j.learning_rate); };
  if (settings.recipe == "fast") {
    job.approach += " (fast recipe)";
    job.epochs = 5;  // 23-26 minutes each at 96x96 on 2 cores (measured): the run took 2 h 3 min
    job.learning_rate = 0.005;  // the one-cycle peak
    job.augment = AugmentOptions{};
    job.augment.horizontal_flip = true;
    job.augment.crop_padding = 4;
    job.label_smoothing = 0.1;
    job.tta.flip = true;
    use_one_cycle_nesterov(job);
  }
  job.first_phase_epochs = settings.head_epochs;
  job.first_phase_note = "train the head only (pretrained base frozen)";
  const bool bn_frozen = settings.bn_frozen;
  job.set_phase = [bn_frozen](Sequential<float>& net, bool frozen) {
    Layer<float>& base = net.layer("resnet50");
    base.set_trainable(!frozen);
    if (bn_frozen)
      for_each_layer(base, [](Layer<float>& l) {
        if (l.type() == "BatchNormalization") l.set_trainable(false);
      });
  };
  return job;
}

// requires: a ResNet50 fine-tuning job (resnet50_recipe). ensures: the job shortened for a
// quick look: three epochs training the new head alone on the frozen ImageNet base, at 10x the
// recipe's rate. (A short fine-tuning epoch of the whole network after it lowered the test
// accuracy: 70 steps leave the moving statistics of the base's BatchNorms stale.)
inline void make_quick_look(CifarJob& job) {
  job.epochs = 3;
  job.first_phase_epochs = 3;
  job.make_schedule = [](const CifarJob& j) { return std::make_unique<ConstantLr>(10 * j.learning_rate); };
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
