// tinynet/layers/dense.hpp: Dense, as keras.layers.Dense (no activation; add ReLU separately).
//
// Dense<T>(units, use_bias = true, kernel_init = glorot_uniform). Input [N, IN] (flatten images first).
// Parameters: "kernel" [IN, units] (Keras layout), "bias" [units].
#pragma once

#include <string>

#include "tinynet/backend/dense.hpp"
#include "tinynet/layers/initializers.hpp"
#include "tinynet/layers/layer.hpp"

namespace tinynet {

template <class T>
class Dense : public Layer<T> {
 public:
  explicit Dense(int units, bool use_bias = true, KernelInit kernel_init = KernelInit::glorot_uniform)
      : units_(units), use_bias_(use_bias), kernel_init_(kernel_init) {
    check(units >= 1, "Dense: units must be >= 1, got ", units);
  }

  std::string type() const override { return "Dense"; }
  std::string config() const override { return std::to_string(units_) + (use_bias_ ? "" : " no-bias"); }

  Shape build(const Shape& in) override {
    check(in.rank() == 1, "Dense '", this->name(), "': needs [features] input (add Flatten first), got ", in);
    this->params_.add("kernel", Shape{in[0], units_});
    if (use_bias_) this->params_.add("bias", Shape{units_});
    return Shape{units_};
  }

  void initialize(Rng& rng) override {
    init_kernel(kernel(), kernel_init_, this->input_shape()[0], units_, rng);
    if (use_bias_) this->params_.value(1).zero();
  }

  const Tensor<T>& forward(const Tensor<T>& x) override {
    this->check_input(x);
    input_ = x;
    output_.resize(Shape{x.dim(0), units_}, x.device());
    dense_forward(x, kernel(), use_bias_ ? this->params_.value(1) : Tensor<T>(), output_);
    return output_;
  }

  const Tensor<T>& backward(const Tensor<T>& dy) override {
    this->check_grad_output(dy, output_);
    const bool want_dx = this->input_grad_needed(), train = this->trainable();
    if (want_dx) this->grad_input_.resize(input_.shape(), input_.device());
    Tensor<T> dkernel = this->params_.grad(0), dbias = use_bias_ ? this->params_.grad(1) : Tensor<T>();
    dense_backward(input_, kernel(), dy, want_dx ? &this->grad_input_ : nullptr, train ? &dkernel : nullptr,
                   train && use_bias_ ? &dbias : nullptr);
    if (!want_dx) this->grad_input_ = Tensor<T>();
    return this->grad_input_;
  }

  Tensor<T> kernel() const { return this->params_.value(0); }

 private:
  std::int64_t units_;
  bool use_bias_;
  KernelInit kernel_init_;
  Tensor<T> input_, output_;
};

}  // namespace tinynet
