// tinynet/layers/max_pool2d.hpp: MaxPool2D, as keras.layers.MaxPooling2D (NCHW).
//
// MaxPool2D<T>(pool, stride = pool, padding = valid) or, for non-square windows,
// MaxPool2D<T>(pool_h, pool_w, stride_h, stride_w, padding). Padding 'valid' (the Keras
// default) or 'same' (TensorFlow rules; padded cells never win). No parameters.
// Output [N, C, OH, OW] with OH/OW from conv_geometry.hpp.
#pragma once

#include <cstdint>
#include <string>

#include "tinynet/backend/conv_geometry.hpp"
#include "tinynet/backend/pooling.hpp"
#include "tinynet/layers/layer.hpp"

namespace tinynet {

template <class T>
class MaxPool2D : public Layer<T> {
 public:
  // requires: pool and strides >= 1; padding valid or same.
  MaxPool2D(int pool_h, int pool_w, int stride_h, int stride_w, Padding padding = Padding::valid)
      : pool_h_(pool_h), pool_w_(pool_w), stride_h_(stride_h), stride_w_(stride_w), padding_(padding) {
    check(pool_h >= 1 && pool_w >= 1 && stride_h >= 1 && stride_w >= 1, "MaxPooling2D: pool ", pool_h, "x", pool_w,
          " and strides ", stride_h, "x", stride_w, " must be >= 1");
    check(padding != Padding::explicit_amounts,
          "MaxPooling2D: padding must be 'valid' or 'same' (add a ZeroPadding2D for explicit amounts)");
  }
  MaxPool2D(int pool, int stride, Padding padding = Padding::valid) : MaxPool2D(pool, pool, stride, stride, padding) {}
  explicit MaxPool2D(int pool = 2, Padding padding = Padding::valid) : MaxPool2D(pool, pool, padding) {}

  std::string type() const override { return "MaxPooling2D"; }
  std::string config() const override {
    return std::to_string(pool_h_) + "x" + std::to_string(pool_w_) + "/" + std::to_string(stride_h_) + " " +
           padding_name(padding_);
  }

  Shape build(const Shape& in) override {
    check(in.rank() == 3, this->label(), ": needs [C,H,W] input, got ", in);
    geometry_ = make_conv_geometry(this->label().c_str(), in[0], in[1], in[2], in[0], pool_h_, pool_w_, stride_h_,
                                   stride_w_, padding_);
    return Shape{in[0], geometry_.out_h, geometry_.out_w};
  }

  const Tensor<T>& forward(const Tensor<T>& x) override {
    this->check_input(x);
    input_ = x;
    const Shape out = this->output_shape_.prepend(x.dim(0));
    output_.resize(out, x.device());
    argmax_.resize(out, x.device());
    max_pool2d_forward(x, output_, argmax_, geometry_);
    return output_;
  }

  const Tensor<T>& backward(const Tensor<T>& dy) override {
    this->check_grad_output(dy, output_);
    if (!this->input_grad_needed()) return this->grad_input_ = Tensor<T>();
    this->grad_input_.resize(input_.shape(), input_.device());
    max_pool2d_backward(input_, output_, dy, argmax_, this->grad_input_, geometry_);
    return this->grad_input_;
  }

  const ConvGeometry& geometry() const { return geometry_; }

 private:
  int pool_h_, pool_w_, stride_h_, stride_w_;
  Padding padding_;
  ConvGeometry geometry_;
  Tensor<T> input_, output_;
  Tensor<std::int32_t> argmax_;  // winner of each output window, h*W+w in its plane
};

}  // namespace tinynet
