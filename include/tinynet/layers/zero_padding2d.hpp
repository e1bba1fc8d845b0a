// tinynet/layers/zero_padding2d.hpp: ZeroPadding2D, as keras.layers.ZeroPadding2D (NCHW).
//
// ZeroPadding2D<T>(top, bottom, left, right) or ZeroPadding2D<T>(pad) for the same amount
// on every side. [N, C, H, W] -> [N, C, H + top + bottom, W + left + right]. No parameters.
#pragma once

#include <string>

#include "tinynet/backend/conv_geometry.hpp"
#include "tinynet/backend/zero_padding.hpp"
#include "tinynet/layers/layer.hpp"

namespace tinynet {

template <class T>
class ZeroPadding2D : public Layer<T> {
 public:
  // requires: every amount >= 0.
  ZeroPadding2D(int top, int bottom, int left, int right) : pad_{top, bottom, left, right} {
    check(top >= 0 && bottom >= 0 && left >= 0 && right >= 0, "ZeroPadding2D: negative padding (top ", top,
          ", bottom ", bottom, ", left ", left, ", right ", right, ")");
  }
  explicit ZeroPadding2D(int pad = 1) : ZeroPadding2D(pad, pad, pad, pad) {}

  std::string type() const override { return "ZeroPadding2D"; }
  std::string config() const override {
    return "top " + std::to_string(pad_.top) + " bottom " + std::to_string(pad_.bottom) + " left " +
           std::to_string(pad_.left) + " right " + std::to_string(pad_.right);
  }

  Shape build(const Shape& in) override {
    check(in.rank() == 3, this->label(), ": needs [C,H,W] input, got ", in);
    return Shape{in[0], in[1] + pad_.top + pad_.bottom, in[2] + pad_.left + pad_.right};
  }

  const Tensor<T>& forward(const Tensor<T>& x) override {
    this->check_input(x);
    input_shape_of_batch_ = x.shape();
    output_.resize(this->output_shape_.prepend(x.dim(0)), x.device());
    zero_pad2d_forward(x, output_, pad_);
    return output_;
  }

  const Tensor<T>& backward(const Tensor<T>& dy) override {
    this->check_grad_output(dy, output_);
    if (!this->input_grad_needed()) return this->grad_input_ = Tensor<T>();
    this->grad_input_.resize(input_shape_of_batch_, dy.device());
    zero_pad2d_backward(dy, this->grad_input_, pad_);
    return this->grad_input_;
  }

  const ExplicitPadding& padding() const { return pad_; }

 private:
  ExplicitPadding pad_;
  Shape input_shape_of_batch_;
  Tensor<T> output_;
};

}  // namespace tinynet
