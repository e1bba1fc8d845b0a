// tinynet/backend/optimizer_coefficients.hpp: the per-step scalars of the Adam and SGD updates.
//
// Device-neutral: backend/optimizer_update.hpp, backend/cpu/optimizer_update.hpp and
// backend/cudnn/optimizer_update.hpp all take these (the backends include this, never each
// other). The step-dependent scalars (Adam's bias correction) are computed once per step by
// the optimizer, so the kernels are pure streaming arithmetic.
#pragma once

namespace tinynet {

// Adam as TensorFlow/Keras computes it (see optim/adam.hpp):
//   m = beta1*m + (1-beta1)*g;  v = beta2*v + (1-beta2)*g^2;
//   p = p - decay*p - step_size * m / (sqrt(v) + epsilon).
template <class T>
struct AdamCoefficients {
  T beta1, beta2;
  T step_size;  // lr * sqrt(1 - beta2^t) / (1 - beta1^t)
  T epsilon;
  T decay;      // lr * weight_decay (decoupled weight decay)
};

// SGD as Keras computes it (see optim/sgd.hpp):
//   p = p - decay*p, then without momentum: p -= lr*g; with momentum:
//   velocity = momentum*velocity - lr*g; p += velocity (plain) or momentum*velocity - lr*g (Nesterov).
template <class T>
struct SgdCoefficients {
  T learning_rate;
  T momentum;
  T decay;  // lr * weight_decay (decoupled weight decay)
  bool nesterov;
};

}  // namespace tinynet
