// tinynet/backend/cpu/dropout.hpp: inverted dropout kernels.
//
// The mask holds the factor each element is multiplied by: 0 (dropped, probability
// `rate`) or 1/(1-rate) (kept). One seed per call is drawn from the caller's Rng and the
// elements decided by dropout_keeps() in parallel, so the same generator state gives the
// same mask whatever the thread count.
#pragma once

#include <cstdint>

#include "tinynet/backend/dropout_mask.hpp"
#include "tinynet/core/random.hpp"
#include "tinynet/core/tensor.hpp"

namespace tinynet {
namespace cpu {

// requires: 0 <= rate < 1; mask and y sized as x; first_element >= 0.
// ensures: mask drawn from rng (one uniform per element: dropped when below rate), element i
// decided as element first_element + i of a larger batch would be; y = x * mask.
template <class T>
void dropout_forward(const Tensor<T>& x, double rate, Rng& rng, Tensor<T>& mask, Tensor<T>& y,
                     std::int64_t first_element = 0) {
  const T keep_scale = static_cast<T>(1.0 / (1.0 - rate));
  const std::int64_t n = x.numel();
  const std::uint64_t seed = rng.next();
  T* m = mask.data();
  const T* in = x.data();
  T* out = y.data();
#pragma omp parallel for schedule(static)
  for (std::int64_t i = 0; i < n; ++i) {
    m[i] = dropout_keeps(seed, first_element + i, rate) ? keep_scale : T(0);
    out[i] = in[i] * m[i];
  }
}

// requires: mask from dropout_forward; dy and dx sized as mask. ensures: dx = dy * mask.
template <class T>
void dropout_backward(const Tensor<T>& mask, const Tensor<T>& dy, Tensor<T>& dx) {
  const std::int64_t n = mask.numel();
  const T* m = mask.data();
  const T* g = dy.data();
  T* out = dx.data();
#pragma omp parallel for schedule(static)
  for (std::int64_t i = 0; i < n; ++i) out[i] = g[i] * m[i];
}

}  // namespace cpu
}  // namespace tinynet
