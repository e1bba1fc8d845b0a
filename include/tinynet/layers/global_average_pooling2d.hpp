// tinynet/layers/global_average_pooling2d.hpp: GlobalAveragePooling2D, as the Keras layer.
//
// [N, C, H, W] -> [N, C]: the mean of each channel plane. No parameters.
#pragma once

#include <string>

#include "tinynet/backend/pooling.hpp"
#include "tinynet/layers/layer.hpp"

namespace tinynet {

template <class T>
class GlobalAveragePooling2D : public Layer<T> {
 public:
  std::string type() const override { return "GlobalAveragePooling2D"; }

  Shape build(const Shape& in) override {
    check(in.rank() == 3 && in[1] >= 1 && in[2] >= 1, this->label(), ": needs [C,H,W] input with H,W >= 1, got ",
          in);
    return Shape{in[0]};
  }

  const Tensor<T>& forward(const Tensor<T>& x) override {
    this->check_input(x);
    input_shape_of_batch_ = x.shape();
    output_.resize(Shape{x.dim(0), x.dim(1)}, x.device());
    global_average_pool_forward(x, output_);
    return output_;
  }

  const Tensor<T>& backward(const Tensor<T>& dy) override {
    this->check_grad_output(dy, output_);
    if (!this->input_grad_needed()) return this->grad_input_ = Tensor<T>();
    this->grad_input_.resize(input_shape_of_batch_, dy.device());
    global_average_pool_backward(dy, this->grad_input_);
    return this->grad_input_;
  }

 private:
  Shape input_shape_of_batch_;
  Tensor<T> output_;
};

}  // namespace tinynet
