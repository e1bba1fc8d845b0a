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
// Synchronized (set_cross_replica_sum): data-parallel ranks normalise with the mean and
// variance of the global batch; the per-channel sums are added over the ranks in the forward
// (mean, then the centred squares) and in the backward (sum dy, sum dy * xhat), so the layer
// computes what one process would on the whole batch. CPU tensors only.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
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

  // A function that replaces `count` doubles, on every rank, by their sum over the ranks.
  using CrossReplicaSum = std::function<void(double* values, std::int64_t count)>;
  // ensures: training forwards (and their backwards) use the global batch's statistics, the
  // sums added by `sum` (an empty function: this rank's batch only, the default).
  void set_cross_replica_sum(CrossReplicaSum sum) { cross_replica_sum_ = std::move(sum); }
  bool synchronized() const { return static_cast<bool>(cross_replica_sum_); }

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
    if (used_batch_statistics_ && synchronized()) {
      forward_synchronized(x);
    } else if (used_batch_statistics_) {
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
    if (want_dx) this->grad_input_.resize(input_.shape(), input_.device());
    Tensor<T> dgamma = this->params_.grad(0), dbeta = this->params_.grad(1);
    Tensor<T>* dx = want_dx ? &this->grad_input_ : nullptr;
    const Tensor<T>* relu_output = relu_ ? &output_ : nullptr;
    if (used_batch_statistics_ && synchronized())
      backward_synchronized(dy, relu_output, dx, train ? &dgamma : nullptr, train ? &dbeta : nullptr);
    else if (used_batch_statistics_)
      batch_norm_backward_training(input_, dy, relu_output, gamma(), saved_mean_, saved_inv_std_, dx,
                                   train ? &dgamma : nullptr, train ? &dbeta : nullptr);
    else
      batch_norm_backward_inference(input_, dy, relu_output, gamma(), moving_mean(), moving_variance(), epsilon_, dx,
                                    train ? &dgamma : nullptr, train ? &dbeta : nullptr);
    if (!want_dx) this->grad_input_ = Tensor<T>();
    return this->grad_input_;
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
  // ensures: the training forward with the global batch's statistics (see the header).
  void forward_synchronized(const Tensor<T>& x) {
    const std::int64_t C = x.dim(1);
    const std::size_t c = static_cast<std::size_t>(C);
    sums_.assign(2 * c, 0.0);  // [sum x | count, unused squares] then [sum xc | sum xc^2]
    batch_norm_channel_sums(x, nullptr, sums_.data(), sums_.data() + c);
    sums_[c] = static_cast<double>(x.numel() / C);
    cross_replica_sum_(sums_.data(), C + 1);
    count_ = sums_[c];
    mean_.assign(sums_.begin(), sums_.begin() + C);
    for (double& m : mean_) m /= count_;
    batch_norm_channel_sums(x, mean_.data(), sums_.data(), sums_.data() + c);  // centred: no cancellation
    cross_replica_sum_(sums_.data(), 2 * C);
    variance_.resize(c);
    inv_std_.resize(c);
    saved_mean_.resize(Shape{C}, x.device());
    saved_inv_std_.resize(Shape{C}, x.device());
    Tensor<T> running_mean = moving_mean(), running_variance = moving_variance();
    const double unbias = count_ > 1 ? count_ / (count_ - 1) : 1.0;
    for (std::size_t k = 0; k < c; ++k) {
      const double shift = sums_[k] / count_;  // ~0: the mean of the centred values
      variance_[k] = std::max(0.0, sums_[c + k] / count_ - shift * shift);
      inv_std_[k] = 1.0 / std::sqrt(variance_[k] + epsilon_);
      saved_mean_[k] = static_cast<T>(mean_[k]);
      saved_inv_std_[k] = static_cast<T>(inv_std_[k]);
      running_mean[k] = static_cast<T>(momentum_ * running_mean[k] + (1 - momentum_) * mean_[k]);
      running_variance[k] = static_cast<T>(momentum_ * running_variance[k] + (1 - momentum_) * variance_[k] * unbias);
    }
    batch_norm_forward_with_statistics(x, gamma(), beta(), mean_.data(), variance_.data(), epsilon_, output_, relu_);
  }

  // ensures: the training backward with the global sums: dgamma and dbeta this rank's share
  // (the data-parallel gradient sum adds the ranks' shares), dx through the global statistics.
  void backward_synchronized(const Tensor<T>& dy, const Tensor<T>* relu_output, Tensor<T>* dx, Tensor<T>* dgamma,
                             Tensor<T>* dbeta) {
    const std::int64_t C = input_.dim(1);
    const std::size_t c = static_cast<std::size_t>(C);
    sums_.assign(2 * c, 0.0);  // [sum dy | sum dy * xhat]
    batch_norm_gradient_sums(input_, dy, relu_output, mean_.data(), inv_std_.data(), sums_.data(), sums_.data() + c);
    for (std::size_t k = 0; k < c; ++k) {
      if (dbeta) (*dbeta)[static_cast<std::int64_t>(k)] = static_cast<T>(sums_[k]);
      if (dgamma) (*dgamma)[static_cast<std::int64_t>(k)] = static_cast<T>(sums_[c + k]);
    }
    cross_replica_sum_(sums_.data(), 2 * C);
    if (dx)
      batch_norm_backward_from_sums(input_, dy, relu_output, gamma(), mean_.data(), inv_std_.data(), sums_.data(),
                                    sums_.data() + c, count_, *dx);
  }

  double momentum_ = 0.99, epsilon_ = 1e-3;
  bool relu_ = false;
  bool scale_ = true;
  double beta_lr_mult_ = 1, beta_decay_mult_ = 1;
  bool used_batch_statistics_ = false;
  Tensor<T> input_, output_;
  Tensor<T> saved_mean_, saved_inv_std_;  // batch statistics of the last training forward
  CrossReplicaSum cross_replica_sum_;     // set: synchronized over data-parallel ranks
  std::vector<double> sums_, mean_, variance_, inv_std_;  // synchronized: global statistics (double)
  double count_ = 0;                           // synchronized: values per channel, all ranks
};

}  // namespace tinynet
