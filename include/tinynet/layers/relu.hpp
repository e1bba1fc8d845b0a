// tinynet/layers/relu.hpp: ReLU, as keras.layers.ReLU / Activation('relu'). Any shape.
#pragma once

#include <string>

#include "tinynet/backend/activation.hpp"
#include "tinynet/layers/layer.hpp"

namespace tinynet {

template <class T>
class ReLU : public Layer<T> {
 public:
  std::string type() const override { return "ReLU"; }
  Shape build(const Shape& in) override { return in; }

  const Tensor<T>& forward(const Tensor<T>& x) override {
    this->check_input(x);
    output_.resize(x.shape(), x.device());
    relu_forward(x, output_);
    return output_;
  }

  const Tensor<T>& backward(const Tensor<T>& dy) override {
    this->check_grad_output(dy, output_);
    this->grad_input_.resize(dy.shape(), dy.device());
    relu_backward(output_, dy, this->grad_input_);
    return this->grad_input_;
  }

 private:
  Tensor<T> output_;
};

}  // namespace tinynet
