// tinynet/layers/initializers.hpp: initial values (Keras' and PyTorch's defaults, identity filters).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "tinynet/core/error.hpp"
#include "tinynet/core/random.hpp"
#include "tinynet/core/tensor.hpp"

namespace tinynet {

// ensures: every element uniform in [-l, l), l = sqrt(6 / (fan_in + fan_out)) (Keras glorot_uniform).
template <class T>
void glorot_uniform(Tensor<T> t, std::int64_t fan_in, std::int64_t fan_out, Rng& rng) {
  const double limit = std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
  for (auto& v : t) v = static_cast<T>(rng.uniform(-limit, limit));
}

// How a Conv2D or Dense kernel starts: Keras' default, or PyTorch's (nn.Conv2d / nn.Linear
// reset_parameters: kaiming_uniform_ with a = sqrt(5), i.e. uniform in [-1/sqrt(fan_in), 1/sqrt(fan_in))).
enum class KernelInit { glorot_uniform, torch_default };

// ensures: every element uniform in [-l, l) with l = 1 / sqrt(fan_in) (PyTorch's default).
template <class T>
void torch_default_uniform(Tensor<T> t, std::int64_t fan_in, Rng& rng) {
  const double limit = 1.0 / std::sqrt(static_cast<double>(fan_in));
  for (auto& v : t) v = static_cast<T>(rng.uniform(-limit, limit));
}

// requires: fan_in, fan_out >= 1. ensures: t filled as `init` says.
template <class T>
void init_kernel(Tensor<T> t, KernelInit init, std::int64_t fan_in, std::int64_t fan_out, Rng& rng) {
  if (init == KernelInit::torch_default)
    torch_default_uniform(t, fan_in, rng);
  else
    glorot_uniform(t, fan_in, fan_out, rng);
}

// requires: kernel [O, I, KH, KW] (OIHW) with odd KH and KW.
// ensures: for o < min(O, I), filter o is the identity on input channel o (1 at its centre
// tap, 0 elsewhere: torch.nn.init.dirac_); filters o >= I keep their values. A convolution
// initialised so starts as a pass-through of its first channels (airbench's "dirac" init).
template <class T>
void dirac_identity(Tensor<T> kernel) {
  check(kernel.rank() == 4 && kernel.dim(2) % 2 == 1 && kernel.dim(3) % 2 == 1,
        "dirac_identity: needs an OIHW kernel with odd KH and KW, got ", kernel.shape());
  const std::int64_t in = kernel.dim(1), kh = kernel.dim(2), kw = kernel.dim(3);
  const std::int64_t identities = std::min(kernel.dim(0), in), filter_size = in * kh * kw;
  for (std::int64_t o = 0; o < identities; ++o) {
    T* filter = kernel.data() + o * filter_size;
    std::fill(filter, filter + filter_size, T(0));
    filter[(o * kh + kh / 2) * kw + kw / 2] = T(1);
  }
}

}  // namespace tinynet
