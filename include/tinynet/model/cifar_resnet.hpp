// tinynet/model/cifar_resnet.hpp: a small ResNet for 32x32 images (the fast recipe's net).
//
// The ResNet-9 layout of Page's DAWNBench entry, at a chosen width w (w = 64 is the
// original): prep conv(w) -> layer1: conv(2w), maxpool 2, residual[conv(2w), conv(2w)]
// -> layer2: conv(4w), maxpool 2 -> layer3: conv(8w), maxpool 2, residual[conv(8w),
// conv(8w)] -> global average pool -> dense(classes) -> Rescaling(logit_scale). Every conv
// is 3x3 same, no bias, followed by BatchNorm and ReLU (one layer, BatchNormOptions::relu).
// Page scales the logits by 0.125: it slows the classifier's learning (by 64x in effect) and
// keeps early high-rate steps stable.
#pragma once

#include <memory>

#include "tinynet/layers/batch_norm.hpp"
#include "tinynet/layers/conv2d.hpp"
#include "tinynet/layers/dense.hpp"
#include "tinynet/layers/global_average_pooling2d.hpp"
#include "tinynet/layers/max_pool2d.hpp"
#include "tinynet/layers/rescaling.hpp"
#include "tinynet/layers/residual.hpp"
#include "tinynet/model/sequential.hpp"

namespace tinynet {

// ensures: an unbuilt Sequential "cifar_resnet<width>"; requires width >= 1, logit_scale != 0
// (1 leaves the logits as they are: no Rescaling layer).
template <class T>
std::unique_ptr<Sequential<T>> make_cifar_resnet(int width = 32, int classes = 10, double logit_scale = 0.125) {
  check(width >= 1, "make_cifar_resnet: width must be >= 1, got ", width);
  auto conv_bn_relu = [](Sequential<T>& s, int filters) {
    s.template add<Conv2D<T>>(filters, 3, 1, Padding::same, false);
    s.template add<BatchNorm<T>>(BatchNormOptions{0.9, 1e-5, true});
  };
  auto residual = [&](Sequential<T>& s, int filters) {
    auto branch = std::make_unique<Sequential<T>>();
    conv_bn_relu(*branch, filters);
    conv_bn_relu(*branch, filters);
    s.add(std::make_unique<Residual<T>>(std::move(branch)));
  };
  auto net = std::make_unique<Sequential<T>>("cifar_resnet" + std::to_string(width));
  conv_bn_relu(*net, width);
  conv_bn_relu(*net, 2 * width);
  net->template add<MaxPool2D<T>>(2);
  residual(*net, 2 * width);
  conv_bn_relu(*net, 4 * width);
  net->template add<MaxPool2D<T>>(2);
  conv_bn_relu(*net, 8 * width);
  net->template add<MaxPool2D<T>>(2);
  residual(*net, 8 * width);
  net->template add<GlobalAveragePooling2D<T>>();
  net->template add<Dense<T>>(classes);
  if (logit_scale != 1) net->template add<Rescaling<T>>(logit_scale);
  return net;
}

}  // namespace tinynet
