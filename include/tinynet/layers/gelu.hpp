// tinynet/layers/gelu.hpp: GELU, as torch.nn.GELU() / keras.activations.gelu(approximate=False).
//
// y = x * Phi(x) = x/2 * (1 + erf(x / sqrt(2))), Phi the standard normal CDF. Any shape.
// No parameters. Keeps its input for the backward pass (the gradient needs x, not y).
#pragma once

#include <string>

#include "tinynet/backend/activation.hpp"
#include "tinynet/layers/layer.hpp"

namespace tinynet {

template <class T>
class GELU : public Layer<T> {
 public:
  std::string type() const override { return "GELU"; }
  Shape build(const Shape& in) override { return in; }

  const Tensor<T>& forward(const Tensor<T>& x) override {
    this->check_input(x);
    input_ = x;
    output_.resize(x.shape(), x.device());
    gelu_forward(x, output_);
    return output_;
  }

  const Tensor<T>& backward(const Tensor<T>& dy) override {
    this->check_grad_output(dy, output_);
    this->grad_input_.resize(dy.shape(), dy.device());
    gelu_backward(input_, dy, this->grad_input_);
    return this->grad_input_;
  }

 private:
  Tensor<T> input_, output_;
};

}  // namespace tinynet
