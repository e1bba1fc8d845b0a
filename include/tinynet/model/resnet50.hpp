// tinynet/model/resnet50.hpp: ResNet50 v1 as keras.applications.ResNet50(include_top=False).
//
//   conv1_pad ZeroPadding 3 -> conv1 7x7/2 (bias) -> bn_conv1 + relu (fused) -> pool1_pad
//   ZeroPadding 1 -> pool1 MaxPool 3x3/2 -> res2a..res2c (64) -> res3a..res3d (128, /2)
//   -> res4a..res4f (256, /2) -> res5a..res5c (512, /2) [-> avg_pool GlobalAveragePooling]
// Block names follow the legacy Keras file (res2a = stage 2, block a); the first block of
// each stage has a projection shortcut. Any input of at least 32x32 works (the spatial size
// shrinks 32-fold: 48x48 gives a 2x2 final map). Output: [N,2048] pooled, or [N,2048,h,w].
#pragma once

#include <memory>
#include <string>

#include "tinynet/layers/batch_norm.hpp"
#include "tinynet/layers/bottleneck.hpp"
#include "tinynet/layers/conv2d.hpp"
#include "tinynet/layers/global_average_pooling2d.hpp"
#include "tinynet/layers/max_pool2d.hpp"
#include "tinynet/layers/sequential.hpp"
#include "tinynet/layers/zero_padding2d.hpp"

namespace tinynet {

struct ResNet50Options {
  bool global_pooling = true;     // end with GlobalAveragePooling2D -> [N, 2048]
  double bn_epsilon = 1e-3;       // legacy Keras files: 1e-3; tf.keras files: 1.001e-5
  double bn_momentum = 0.99;
};

// ensures: an unbuilt Sequential named "resnet50"; build it with setup(Shape{3, H, W}).
template <class T>
std::unique_ptr<Sequential<T>> make_resnet50(const ResNet50Options& options = {}) {
  auto net = std::make_unique<Sequential<T>>("resnet50");
  auto named = [&](LayerPtr<T> layer, const std::string& name) { layer->set_name(name); net->add(std::move(layer)); };
  const BatchNormOptions bn{options.bn_momentum, options.bn_epsilon, false};
  named(std::make_unique<ZeroPadding2D<T>>(3), "conv1_pad");
  named(std::make_unique<Conv2D<T>>(64, 7, 2, Padding::valid, true), "conv1");
  named(std::make_unique<BatchNorm<T>>(BatchNormOptions{options.bn_momentum, options.bn_epsilon, true}), "bn_conv1");
  named(std::make_unique<ZeroPadding2D<T>>(1), "pool1_pad");
  named(std::make_unique<MaxPool2D<T>>(3, 2), "pool1");
  const int blocks[4] = {3, 4, 6, 3}, widths[4] = {64, 128, 256, 512};
  for (int stage = 0; stage < 4; ++stage) {
    for (int b = 0; b < blocks[stage]; ++b) {
      BottleneckOptions o;
      o.stride = (b == 0 && stage > 0) ? 2 : 1;
      o.projection = b == 0;
      o.batch_norm = bn;
      named(std::make_unique<Bottleneck<T>>(widths[stage], o),
            "res" + std::to_string(stage + 2) + static_cast<char>('a' + b));
    }
  }
  if (options.global_pooling) named(std::make_unique<GlobalAveragePooling2D<T>>(), "avg_pool");
  return net;
}

}  // namespace tinynet
