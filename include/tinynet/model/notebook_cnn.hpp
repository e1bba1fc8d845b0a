// tinynet/model/notebook_cnn.hpp: the scratch CNN of the reference Keras notebook.
//
//   Conv(32,3x3,same)-ReLU-BN, Conv(32,3x3,valid)-ReLU-BN, MaxPool 2, Dropout 0.25,
//   Conv(64,3x3,same)-ReLU-BN, Conv(64,3x3,valid)-ReLU-BN, MaxPool 2, Dropout 0.25,
//   Flatten, Dense 512-ReLU-BN, Dropout 0.5, Dense classes (logits; softmax in the loss).
// For 32x32x3 inputs it has 1,253,674 parameters (1,252,266 trainable), as in Keras.
#pragma once

#include <cstdint>
#include <memory>

#include "tinynet/layers/batch_norm.hpp"
#include "tinynet/layers/conv2d.hpp"
#include "tinynet/layers/dense.hpp"
#include "tinynet/layers/dropout.hpp"
#include "tinynet/layers/flatten.hpp"
#include "tinynet/layers/max_pool2d.hpp"
#include "tinynet/layers/relu.hpp"
#include "tinynet/layers/sequential.hpp"

namespace tinynet {

// requires: 0 <= bn_momentum <= 1.
// ensures: an unbuilt Sequential "notebook_cnn"; dropout generators seeded from `seed`;
// with_dropout false leaves the Dropout layers out (for step-by-step comparisons with another
// framework, whose masks cannot be the same); its BatchNorms' moving averages keep
// `bn_momentum` of the old value per step (Keras' sense and default; PyTorch's default is 0.9).
template <class T>
std::unique_ptr<Sequential<T>> make_notebook_cnn(int classes = 10, std::uint64_t seed = 0, bool with_dropout = true,
                                                 double bn_momentum = 0.99) {
  BatchNormOptions batch_norm;
  batch_norm.momentum = bn_momentum;
  auto net = std::make_unique<Sequential<T>>("notebook_cnn");
  int dropouts = 0;
  auto conv_block = [&](int filters, Padding padding) {
    net->template add<Conv2D<T>>(filters, 3, 1, padding);
    net->template add<ReLU<T>>();
    net->template add<BatchNorm<T>>(batch_norm);
  };
  auto dropout = [&](double rate) {
    if (with_dropout) net->template add<Dropout<T>>(rate, seed * 1000 + ++dropouts);
  };
  conv_block(32, Padding::same);
  conv_block(32, Padding::valid);
  net->template add<MaxPool2D<T>>(2);
  dropout(0.25);
  conv_block(64, Padding::same);
  conv_block(64, Padding::valid);
  net->template add<MaxPool2D<T>>(2);
  dropout(0.25);
  net->template add<Flatten<T>>();
  net->template add<Dense<T>>(512);
  net->template add<ReLU<T>>();
  net->template add<BatchNorm<T>>(batch_norm);
  dropout(0.5);
  net->template add<Dense<T>>(classes);
  return net;
}

}  // namespace tinynet
