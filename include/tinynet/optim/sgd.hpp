// tinynet/optim/sgd.hpp: stochastic gradient descent, as keras.optimizers.SGD.
//
// SGD<T>(SgdOptions{}) with Keras' defaults lr 0.01, momentum 0, nesterov false.
// On each trainable element p with gradient g (after decoupled decay p -= lr*weight_decay*p):
//   momentum == 0:  p -= lr * g                      (no state)
//   otherwise:      velocity = momentum*velocity - lr*g
//                   p += velocity                      (plain momentum)
//                   p += momentum*velocity - lr*g      (nesterov)
// Keras' velocity already includes lr, so changing the learning rate mid-run does not
// rescale past velocity (PyTorch's buffer excludes lr; the runs agree at constant lr).
// State: "velocity", shaped like the parameter buffer, when momentum > 0.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "tinynet/backend/optimizer_update.hpp"
#include "tinynet/optim/gradient_optimizer.hpp"

namespace tinynet {

struct SgdOptions {
  double lr = 0.01;
  double momentum = 0;
  bool nesterov = false;
  double weight_decay = 0;
};

template <class T>
class SGD : public GradientOptimizer<T> {
 public:
  // requires: lr, weight_decay >= 0; 0 <= momentum <= 1 (all checked).
  explicit SGD(const SgdOptions& options = SgdOptions{})
      : GradientOptimizer<T>("SGD", options.lr, options.weight_decay, state_names(options)), options_(options) {
    check(std::isfinite(options.momentum) && options.momentum >= 0 && options.momentum <= 1, "SGD: momentum ",
          options.momentum, " must lie in [0, 1]");
  }

  double momentum() const { return options_.momentum; }
  bool nesterov() const { return options_.nesterov; }

 protected:
  void apply(Tensor<T>& values, const Tensor<T>& grads,
             const typename GradientOptimizer<T>::Segments& segments) override {
    Tensor<T>* velocity = options_.momentum > 0 ? &this->state_tensor(0) : nullptr;
    for (const auto& s : segments) {
      const double lr = this->learning_rate() * s.lr_mult;
      const SgdCoefficients<T> coefficients{static_cast<T>(lr), static_cast<T>(options_.momentum),
                                            static_cast<T>(lr * this->weight_decay() * s.decay_mult),
                                            options_.nesterov};
      sgd_update(values, grads, velocity, s.offset, s.count, coefficients);
    }
  }

 private:
  static std::vector<std::string> state_names(const SgdOptions& options) {
    return options.momentum > 0 ? std::vector<std::string>{"velocity"} : std::vector<std::string>{};
  }

  SgdOptions options_;
};

}  // namespace tinynet
