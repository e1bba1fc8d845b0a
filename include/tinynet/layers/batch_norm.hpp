// tinynet/layers/batch_norm.hpp: BatchNorm, as keras.layers.BatchNormalization (channel axis 1).
//
// BatchNorm<T>(BatchNormOptions{momentum = 0.99, epsilon = 1e-3, relu = false, scale = true}).
// Input [N,C,H,W] (statistics per channel) or [N,F] (per feature). With relu the output is
// max(BN(x), 0): Keras' BatchNormalization followed by a ReLU layer, in one pass each way
// (Conv -> BN -> ReLU stacks: Bottleneck, the ResNet stems). With scale = false gamma stays
// 1 (Keras' scale=False): it is still stored, but no optimiser updates it. beta_lr_mult and
// beta_decay_mult are beta's update multipliers (ParameterSet::set_update_multipliers).
// Parameters, in this order: "gamma" [C] and "beta" [C] (weights, initialised to 1 and 0),
// "moving_mean" [C] and "moving_variance" [C] (statistics, initialised to 0 and 1).
// Modes (Keras 2 in TF2): when training() && trainable() the layer normalises with the
// batch mean and biased variance and updates the moving statistics (the variance with the
// unbiased batch variance, as TF's fused kernel and PyTorch do); otherwise (inference, or a
// frozen layer even while the model trains) it uses the moving statistics and updates nothing.
// backward() follows the mode of the last forward().
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "tinynet/backend/batch_norm.hpp"
#include "tinynet/layers/layer.hpp"

namespace tinynet {

struct BatchNormOptions {
  double momentum = 0.99;
  double epsilon = 1e-3;
  bool relu = false;  // a ReLU fused after the normalisation
  bool scale = true;  // false: gamma fixed at 1 (not trainable)
  double beta_lr_mult = 1;     // beta learns at lr * beta_lr_mult
  double beta_decay_mult = 1;  // and decays with weight_decay * beta_decay_mult
};

template <class T>
class BatchNorm : public Layer<T> {
 public:
  // requires: 0 <= momentum <= 1, epsilon > 0.
  explicit BatchNorm(BatchNormOptions options = {})
      : relu_(options.relu),
        scale_(options.scale),
        beta_lr_mult_(options.beta_lr_mult),
        beta_decay_mult_(options.beta_decay_mult) {
    set_momentum(options.momentum);
    set_epsilon(options.epsilon);
  }

  std::string type() const override { return "BatchNormalization"; }
  std::string config() const override {
    return "momentum " + std::to_string(momentum_) + " epsilon " + std::to_string(epsilon_) + (relu_ ? ", relu" : "") +
           (scale_ ? "" : ", no scale") +
           (beta_lr_mult_ != 1 || beta_decay_mult_ != 1
                ? ", beta lr x" + std::to_string(beta_lr_mult_) + " decay x" + std::to_string(beta_decay_mult_)
                : "");
  }

  double momentum() const { return momentum_; }
  bool relu() const { return relu_; }
  bool scale() const { return scale_; }
  double epsilon() const { return epsilon_; }
  // requires: 0 <= momentum <= 1. ensures: later training steps use it.
  void set_momentum(double momentum) {
    check(momentum >= 0 && momentum <= 1, "BatchNormalization '", this->name(), "': momentum ", momentum,
          " is outside [0, 1]");
    momentum_ = momentum;
  }
  // requires: epsilon > 0 (tf.keras ResNet50 files use 1.001e-5).
  void set_epsilon(double epsilon) {
    check(epsilon > 0, "BatchNormalization '", this->name(), "': epsilon ", epsilon, " must be > 0");
    epsilon_ = epsilon;
  }

  Shape build(const Shape& in) override {
    check(in.rank() == 3 || in.rank() == 1, this->label(), ": needs [C,H,W] or [F] input, got ", in);
    const Shape channels{in[0]};
    this->params_.add("gamma", channels);
    this->params_.add("beta", channels);
    this->params_.set_update_multipliers("beta", beta_lr_mult_, beta_decay_mult_);
    this->params_.add("moving_mean", channels, ParameterKind::statistic);
    this->params_.add("moving_variance", channels, ParameterKind::statistic);
    return in;
  }

  void initialize(Rng& /*rng*/) override {
    gamma().fill(T(1));
    beta().zero();
    moving_mean().zero();
    moving_variance().fill(T(1));
  }

  const Tensor<T>& forward(const Tensor<T>& x) override {
    this->check_input(x);
    input_ = x;
    output_.resize(x.shape(), x.device());
    used_batch_statistics_ = this->training() && this->trainable();
    if (used_batch_statistics_) {
      const Shape channels{x.dim(1)};
      saved_mean_.resize(channels, x.device());
      saved_inv_std_.resize(channels, x.device());
      Tensor<T> running_mean = moving_mean(), running_variance = moving_variance();  // views, updated in place
      batch_norm_forward_training(x, gamma(), beta(), momentum_, epsilon_, running_mean, running_variance, output_,
                                  saved_mean_, saved_inv_std_, relu_);
    } else {
      batch_norm_forward_inference(x, gamma(), beta(), moving_mean(), moving_variance(), epsilon_, output_, relu_);
    }
    return output_;
  }

  const Tensor<T>& backward(const Tensor<T>& dy) override {
    this->check_grad_output(dy, output_);
    const bool want_dx = this->input_grad_needed(), train = this->trainable();
    if (want_dx) grad_input_.resize(input_.shape(), input_.device());
    Tensor<T> dgamma = this->params_.grad(0), dbeta = this->params_.grad(1);
    Tensor<T>* dx = want_dx ? &grad_input_ : nullptr;
    const Tensor<T>* relu_output = relu_ ? &output_ : nullptr;
    if (used_batch_statistics_)
      batch_norm_backward_training(input_, dy, relu_output, gamma(), saved_mean_, saved_inv_std_, dx,
                                   train ? &dgamma : nullptr, train ? &dbeta : nullptr);
    else
      batch_norm_backward_inference(input_, dy, relu_output, gamma(), moving_mean(), moving_variance(), epsilon_, dx,
                                    train ? &dgamma : nullptr, train ? &dbeta : nullptr);
    if (!want_dx) grad_input_ = Tensor<T>();
    return grad_input_;
  }

  // ensures: beta's range, and gamma's unless scale() is false (when trainable()).
  void collect_trainable_ranges(std::int64_t base,
                                std::vector<std::pair<std::int64_t, std::int64_t>>& out) const override {
    if (!this->trainable()) return;
    for (const auto& e : this->params_.entries())
      if (e.kind == ParameterKind::weight && (scale_ || e.name != "gamma"))
        out.emplace_back(base + e.offset, e.shape.numel());
  }

  Tensor<T> gamma() const { return this->params_.value(0); }
  Tensor<T> beta() const { return this->params_.value(1); }
  Tensor<T> moving_mean() const { return this->params_.value(2); }
  Tensor<T> moving_variance() const { return this->params_.value(3); }

 private:
  double momentum_ = 0.99, epsilon_ = 1e-3;
  bool relu_ = false;
  bool scale_ = true;
  double beta_lr_mult_ = 1, beta_decay_mult_ = 1;
  bool used_batch_statistics_ = false;
  Tensor<T> input_, output_, grad_input_;
  Tensor<T> saved_mean_, saved_inv_std_;  // batch statistics of the last training forward
};

}  // namespace tinynet
