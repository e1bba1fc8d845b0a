// tinynet/optim/adam.hpp: Adam, as keras.optimizers.Adam (TensorFlow's formulation).
//
// Adam<T>(AdamOptions{}) with Keras' defaults lr 1e-3, beta1 0.9, beta2 0.999, epsilon 1e-7.
// Per step t (1, 2, ...), on each trainable element p with gradient g:
//   m = beta1*m + (1-beta1)*g;   v = beta2*v + (1-beta2)*g^2
//   lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
//   p = p - lr*weight_decay*p - lr_t * m / (sqrt(v) + epsilon)
// Difference from PyTorch's torch.optim.Adam: PyTorch divides by sqrt(v_hat) + eps with
// v_hat = v / (1 - beta2^t), i.e. its epsilon is added after bias correction, so it equals
// the TF form with epsilon_tf = eps_pt * sqrt(1 - beta2^t). To reproduce a PyTorch run, pass
// PyTorch's lr and a (slightly different, step-dependent) epsilon; the two agree whenever
// epsilon is negligible next to sqrt(v). PyTorch's default eps is 1e-8, Keras' 1e-7.
// weight_decay > 0 gives AdamW-style decoupled decay (PyTorch AdamW, Keras' weight_decay).
// State: "m" and "v", shaped like the parameter buffer.
#pragma once

#include <cmath>
#include <string>

#include "tinynet/backend/optimizer_update.hpp"
#include "tinynet/optim/gradient_optimizer.hpp"

namespace tinynet {

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double epsilon = 1e-7;
  double weight_decay = 0;
};

template <class T>
class Adam : public GradientOptimizer<T> {
 public:
  // requires: lr, weight_decay >= 0; 0 <= beta1, beta2 < 1; epsilon > 0 (all checked).
  explicit Adam(const AdamOptions& options = AdamOptions{})
      : GradientOptimizer<T>("Adam", options.lr, options.weight_decay, {"m", "v"}), options_(options) {
    check(options.beta1 >= 0 && options.beta1 < 1 && options.beta2 >= 0 && options.beta2 < 1,
          "Adam: beta1 ", options.beta1, " and beta2 ", options.beta2, " must lie in [0, 1)");
    check(options.epsilon > 0 && std::isfinite(options.epsilon), "Adam: epsilon ", options.epsilon,
          " must be finite and > 0 (with 0, never-updated elements would become 0/0)");
  }

  double beta1() const { return options_.beta1; }
  double beta2() const { return options_.beta2; }
  double epsilon() const { return options_.epsilon; }

 protected:
  void apply(Tensor<T>& values, const Tensor<T>& grads,
             const typename GradientOptimizer<T>::Segments& segments) override {
    const double t = static_cast<double>(this->iterations());
    const double bias_correction = std::sqrt(1 - std::pow(options_.beta2, t)) / (1 - std::pow(options_.beta1, t));
    Tensor<T>& m = this->state_tensor(0);
    Tensor<T>& v = this->state_tensor(1);
    for (const auto& s : segments) {
      const double lr = this->learning_rate() * s.lr_mult;
      const AdamCoefficients<T> coefficients{static_cast<T>(options_.beta1), static_cast<T>(options_.beta2),
                                             static_cast<T>(lr * bias_correction), static_cast<T>(options_.epsilon),
                                             static_cast<T>(lr * this->weight_decay() * s.decay_mult)};
      adam_update(values, grads, m, v, s.offset, s.count, coefficients);
    }
  }

 private:
  AdamOptions options_;
};

}  // namespace tinynet
