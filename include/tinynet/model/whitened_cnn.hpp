// tinynet/model/whitened_cnn.hpp: an 8-layer CNN with a patch-whitening stem, for 32x32 RGB.
//
// The layout of Keller Jordan's airbench94 (after tysam's hlb-CIFAR10 and Page's ResNet-9):
//   "whitening": Conv 2x2 valid, 24 filters, with bias, frozen (set its kernel with
//                patch_whitening_kernel() of the training images; set_trainable(true) then
//                trains its bias alone: the kernel is never updated), act;
//   three groups of widths w1, w2, w3: Conv 3x3 same (no bias) -> MaxPool 2 -> BN -> act ->
//                Conv 3x3 same (no bias) -> BN -> act;
//   MaxPool 3, Flatten, Dense(classes, no bias), Rescaling(logit_scale).
// act is GELU (airbench's) or ReLU (fused into the BatchNorms). Every 3x3 convolution starts
// with its first min(filters, channels) filters as identities (Conv2DOptions::identity_init),
// the others and the Dense kernel as kernel_init says; the BatchNorms have no trainable scale (gamma stays 1),
// biases that learn bn_bias_lr_mult times faster (with as much less decay, so the decay per
// step stays the weights') and fast-moving statistics. For 32x32 inputs the maps are 31, 15, 7, 3 and 1 pixels wide.
#pragma once

#include <array>
#include <memory>

#include "tinynet/layers/batch_norm.hpp"
#include "tinynet/layers/conv2d.hpp"
#include "tinynet/layers/dense.hpp"
#include "tinynet/layers/flatten.hpp"
#include "tinynet/layers/gelu.hpp"
#include "tinynet/layers/max_pool2d.hpp"
#include "tinynet/layers/relu.hpp"
#include "tinynet/layers/rescaling.hpp"
#include "tinynet/layers/sequential.hpp"

namespace tinynet {

enum class Activation { relu, gelu };

struct WhitenedCnnOptions {
  std::array<int, 3> widths{64, 256, 256};
  Activation activation = Activation::gelu;
  KernelInit kernel_init = KernelInit::torch_default;  // airbench's (PyTorch's defaults)
  int classes = 10;
  double logit_scale = 1.0 / 9;
  double bn_momentum = 0.6;  // Keras convention: moving = momentum * moving + (1 - momentum) * batch
  double bn_epsilon = 1e-5;
  double bn_bias_lr_mult = 64;  // airbench's bias_scaler: BN biases learn 64x faster, decay 64x less
};

constexpr int whitening_patch = 2;  // the stem's window: 2x2, so 2 * 3 * 2 * 2 = 24 filters for RGB

// requires: every width >= 1, classes >= 1, logit_scale != 0, bn_bias_lr_mult > 0.
// ensures: an unbuilt Sequential "whitened_cnn" as above; its first layer, named
// "whitening", is frozen (not trainable).
template <class T>
std::unique_ptr<Sequential<T>> make_whitened_cnn(const WhitenedCnnOptions& options = {}) {
  for (int width : options.widths) check(width >= 1, "make_whitened_cnn: widths must be >= 1, got ", width);
  check(options.classes >= 1, "make_whitened_cnn: classes must be >= 1, got ", options.classes);
  check(options.bn_bias_lr_mult > 0, "make_whitened_cnn: bn_bias_lr_mult must be > 0, got ", options.bn_bias_lr_mult);
  auto net = std::make_unique<Sequential<T>>("whitened_cnn");
  Conv2DOptions stem{1, 1, Padding::valid, {}, true};
  stem.kernel_trainable = false;  // set_trainable(true) lets the bias alone learn (airbench's first epochs)
  auto whitening = std::make_unique<Conv2D<T>>(2 * 3 * whitening_patch * whitening_patch, whitening_patch,
                                               whitening_patch, stem);
  whitening->set_name("whitening");
  whitening->set_trainable(false);
  net->add(std::move(whitening));
  const bool gelu = options.activation == Activation::gelu;
  auto add_gelu = [&] {  // after a BatchNorm; ReLU is fused into the BatchNorms instead
    if (gelu) net->template add<GELU<T>>();
  };
  if (gelu)
    net->template add<GELU<T>>();
  else
    net->template add<ReLU<T>>();
  const BatchNormOptions bn{options.bn_momentum, options.bn_epsilon, !gelu, false, options.bn_bias_lr_mult,
                            1 / options.bn_bias_lr_mult};
  Conv2DOptions conv;
  conv.use_bias = false;
  conv.identity_init = true;
  conv.kernel_init = options.kernel_init;
  for (int width : options.widths) {
    net->template add<Conv2D<T>>(width, 3, 3, conv);
    net->template add<MaxPool2D<T>>(2);
    net->template add<BatchNorm<T>>(bn);
    add_gelu();
    net->template add<Conv2D<T>>(width, 3, 3, conv);
    net->template add<BatchNorm<T>>(bn);
    add_gelu();
  }
  net->template add<MaxPool2D<T>>(3);
  net->template add<Flatten<T>>();
  net->template add<Dense<T>>(options.classes, false, options.kernel_init);
  net->template add<Rescaling<T>>(options.logit_scale);
  return net;
}

}  // namespace tinynet
