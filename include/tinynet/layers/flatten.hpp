// tinynet/layers/flatten.hpp: Flatten, [N, C, H, W] -> [N, C*H*W] (a view; no copy).
//
// Note: tinynet is NCHW, so the flattened order is channel-major. Keras (NHWC) flattens
// height-major; weights imported for a Dense after Flatten must be permuted accordingly.
#pragma once

#include <string>

#include "tinynet/layers/layer.hpp"

namespace tinynet {

template <class T>
class Flatten : public Layer<T> {
 public:
  std::string type() const override { return "Flatten"; }
  Shape build(const Shape& in) override { return Shape{in.numel()}; }

  const Tensor<T>& forward(const Tensor<T>& x) override {
    this->check_input(x);
    output_ = x.reshaped(Shape{x.dim(0), this->output_shape()[0]});
    return output_;
  }
  const Tensor<T>& backward(const Tensor<T>& dy) override {
    this->check_grad_output(dy, output_);
    this->grad_input_ = dy.reshaped(this->input_shape().prepend(dy.dim(0)));
    return this->grad_input_;
  }

 private:
  Tensor<T> output_;
};

}  // namespace tinynet
