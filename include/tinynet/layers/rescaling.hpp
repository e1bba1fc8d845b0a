// tinynet/layers/rescaling.hpp: Rescaling, as keras.layers.Rescaling(scale, offset):
// y = scale * x + offset, elementwise, any shape, no parameters.
//
// Its use here: scaling the logits of a classifier (0.125 in the fast recipe's ResNet, as in
// Page's DAWNBench net), which damps the last layer's effective learning rate by scale^2.
#pragma once

#include <cmath>
#include <string>

#include "tinynet/backend/elementwise.hpp"
#include "tinynet/core/error.hpp"
#include "tinynet/layers/layer.hpp"

namespace tinynet {

template <class T>
class Rescaling : public Layer<T> {
 public:
  // requires: scale finite and non-zero (checked), offset finite.
  explicit Rescaling(double scale, double offset = 0) : scale_(scale), offset_(offset) {
    check(std::isfinite(scale) && scale != 0, "Rescaling: scale must be finite and non-zero, got ", scale);
    check(std::isfinite(offset), "Rescaling: offset must be finite, got ", offset);
  }

  std::string type() const override { return "Rescaling"; }
  std::string config() const override { return "scale " + std::to_string(scale_) + ", offset " + std::to_string(offset_); }
  double scale() const { return scale_; }
  double offset() const { return offset_; }
  Shape build(const Shape& in) override { return in; }

  const Tensor<T>& forward(const Tensor<T>& x) override {
    this->check_input(x);
    output_.resize(x.shape(), x.device());
    scale_shift(x, static_cast<T>(scale_), static_cast<T>(offset_), output_);
    return output_;
  }

  // ensures: dx = scale * dy.
  const Tensor<T>& backward(const Tensor<T>& dy) override {
    this->check_grad_output(dy, output_);
    this->grad_input_.resize(dy.shape(), dy.device());
    scale_shift(dy, static_cast<T>(scale_), T(0), this->grad_input_);
    return this->grad_input_;
  }

 private:
  double scale_, offset_;
  Tensor<T> output_;
};

}  // namespace tinynet
