// tinynet/layers/conv2d.hpp: Conv2D, as keras.layers.Conv2D (NCHW, OIHW kernel).
//
// Conv2D<T>(filters, kernel, stride = 1, padding = same|valid|explicit, use_bias = true).
// Parameters: "kernel" [filters, C, KH, KW], "bias" [filters] (when use_bias).
// Output: [N, filters, OH, OW] with OH/OW from conv_geometry.hpp (TensorFlow padding rules).
// In inference, forward_with_batch_norm() folds a following batch norm into the output pass;
// the composite that owns both layers hands over the batch norm's parameters (Bottleneck).
#pragma once

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "tinynet/backend/conv2d.hpp"
#include "tinynet/layers/initializers.hpp"
#include "tinynet/layers/layer.hpp"

namespace tinynet {

struct Conv2DOptions {
  int stride_h = 1, stride_w = 1;
  Padding padding = Padding::same;
  ExplicitPadding amounts{};  // used when padding == Padding::explicit_amounts
  bool use_bias = true;
  bool identity_init = false;  // initialise filter o < C as the identity on channel o (dirac_identity)
  KernelInit kernel_init = KernelInit::glorot_uniform;  // the other filters' initial values
  bool kernel_trainable = true;  // false: only the bias learns (a fixed filter bank, e.g. a whitening stem)
};

// An inference-mode batch norm over a convolution's output: per filter o,
// y = gamma[o] * (conv - moving_mean[o]) / sqrt(moving_variance[o] + epsilon) + beta[o],
// then max(y, 0) when relu. The tensors are the BatchNorm layer's (shared storage).
template <class T>
struct FoldedBatchNorm {
  Tensor<T> gamma, beta, moving_mean, moving_variance;  // [filters] each
  double epsilon = 1e-3;
  bool relu = false;
};

template <class T>
class Conv2D : public Layer<T> {
 public:
  // requires: filters >= 1, kernel_h/w >= 1.
  Conv2D(int filters, int kernel_h, int kernel_w, Conv2DOptions options)
      : filters_(filters), kernel_h_(kernel_h), kernel_w_(kernel_w), options_(options) {
    check(filters >= 1 && kernel_h >= 1 && kernel_w >= 1, "Conv2D: filters ", filters, " and kernel ", kernel_h,
          "x", kernel_w, " must be >= 1");
  }
  Conv2D(int filters, int kernel, int stride = 1, Padding padding = Padding::same, bool use_bias = true)
      : Conv2D(filters, kernel, kernel, Conv2DOptions{stride, stride, padding, {}, use_bias}) {}

  std::string type() const override { return "Conv2D"; }
  std::string config() const override {
    return std::to_string(filters_) + " " + std::to_string(kernel_h_) + "x" + std::to_string(kernel_w_) + "/" +
           std::to_string(options_.stride_h) + " " + padding_name(options_.padding) +
           (options_.use_bias ? "" : " no-bias") +
           (options_.identity_init ? " identity-init" : "") + (options_.kernel_trainable ? "" : " fixed-kernel");
  }

  Shape build(const Shape& in) override {
    check(in.rank() == 3, "Conv2D '", this->name(), "': needs [C,H,W] input, got ", in);
    geometry_ = make_conv_geometry(this->label().c_str(), in[0], in[1], in[2], filters_, kernel_h_, kernel_w_,
                                   options_.stride_h, options_.stride_w, options_.padding, options_.amounts);
    this->params_.add("kernel", Shape{filters_, in[0], kernel_h_, kernel_w_});
    if (options_.use_bias) this->params_.add("bias", Shape{filters_});
    return Shape{filters_, geometry_.out_h, geometry_.out_w};
  }

  void initialize(Rng& rng) override {
    const std::int64_t area = std::int64_t(kernel_h_) * kernel_w_;
    init_kernel(kernel(), options_.kernel_init, geometry_.channels * area, filters_ * area, rng);
    if (options_.identity_init) dirac_identity(kernel());
    if (options_.use_bias) bias().zero();
  }

  const Tensor<T>& forward(const Tensor<T>& x) override {
    this->check_input(x);
    input_ = x;
    output_.resize(this->output_shape_.prepend(x.dim(0)), x.device());
    conv2d_forward(x, kernel(), options_.use_bias ? bias() : Tensor<T>(), output_, geometry_, workspace_);
    return output_;
  }

  // requires: built; bn's four tensors hold one value per filter (an Error otherwise); used
  // in inference. ensures: bn(conv(x)), ReLU'd when bn.relu, in one pass over the output
  // (backend conv2d_batch_norm_inference); keeps nothing for backward(), which needs forward().
  const Tensor<T>& forward_with_batch_norm(const Tensor<T>& x, const FoldedBatchNorm<T>& bn) {
    this->check_input(x);
    for (const Tensor<T>* statistic : {&bn.gamma, &bn.beta, &bn.moving_mean, &bn.moving_variance})
      if (statistic->numel() != filters_)
        fail(this->label(), ": cannot fold a batch norm over ", statistic->numel(), " channels into the output of ",
             filters_, " filters");
    input_ = Tensor<T>();
    output_.resize(this->output_shape_.prepend(x.dim(0)), x.device());
    conv2d_batch_norm_inference(x, kernel(), options_.use_bias ? bias() : Tensor<T>(), bn.gamma, bn.beta,
                                bn.moving_mean, bn.moving_variance, bn.epsilon, bn.relu, output_, geometry_,
                                workspace_);
    return output_;
  }

  const Tensor<T>& backward(const Tensor<T>& dy) override {
    if (input_.empty())
      fail(this->label(), ": backward() needs a forward() first (forward_with_batch_norm() keeps no input)");
    this->check_grad_output(dy, output_);
    if (this->input_grad_needed()) this->grad_input_.resize(input_.shape(), input_.device());
    Tensor<T> dkernel = this->params_.grad(0), dbias = options_.use_bias ? this->params_.grad(1) : Tensor<T>();
    const bool train = this->trainable();
    conv2d_backward(input_, kernel(), dy, this->input_grad_needed() ? &this->grad_input_ : nullptr,
                    train && options_.kernel_trainable ? &dkernel : nullptr,
                    train && options_.use_bias ? &dbias : nullptr, geometry_, workspace_);
    if (!this->input_grad_needed()) this->grad_input_ = Tensor<T>();
    return this->grad_input_;
  }

  // ensures: the bias's range, and the kernel's unless options.kernel_trainable is false (when trainable()).
  void collect_trainable_ranges(std::int64_t base,
                                std::vector<std::pair<std::int64_t, std::int64_t>>& out) const override {
    if (!this->trainable()) return;
    for (const auto& e : this->params_.entries())
      if (options_.kernel_trainable || e.name != "kernel") out.emplace_back(base + e.offset, e.shape.numel());
  }

  Tensor<T> kernel() const { return this->params_.value(0); }
  Tensor<T> bias() const { return this->params_.value(1); }
  const ConvGeometry& geometry() const { return geometry_; }

 private:
  std::int64_t filters_;
  int kernel_h_, kernel_w_;
  Conv2DOptions options_;
  ConvGeometry geometry_;
  ConvWorkspace<T> workspace_;
  Tensor<T> input_, output_;
};

}  // namespace tinynet
