// A tiny model with every kind of checkpoint record (weights, BatchNorm statistics, a
// generator), shared by the checkpoint and divergence tests and the checkpoint fuzz target.
#pragma once

#include <cstdint>
#include <memory>

#include "tinynet/tinynet.hpp"

namespace tinynet_test {

// ensures: conv(2 filters, 3x3) -> batch norm -> dropout -> flatten -> dense(3), built for
// 1x4x4 inputs; the names are "conv2d/kernel", ..., "dense/bias".
inline std::unique_ptr<tinynet::Sequential<float>> tiny_net(std::uint64_t dropout_seed = 11) {
  auto net = std::make_unique<tinynet::Sequential<float>>("tiny");
  net->add<tinynet::Conv2D<float>>(2, 3);
  net->add<tinynet::BatchNorm<float>>();
  net->add<tinynet::Dropout<float>>(0.5, dropout_seed);
  net->add<tinynet::Flatten<float>>();
  net->add<tinynet::Dense<float>>(3);
  net->setup(tinynet::Shape{1, 4, 4});
  return net;
}

}  // namespace tinynet_test
