// tinynet/backend/cpu/elementwise.hpp: elementwise sums of two tensors (residual connections)
// and the affine map scale * x + offset (Rescaling).
#pragma once

#include <cstdint>

#include "tinynet/core/tensor.hpp"

namespace tinynet {
namespace cpu {

// requires: a, b and y hold the same number of elements (y may be a or b). ensures: y = a + b.
template <class T>
void add_forward(const Tensor<T>& a, const Tensor<T>& b, Tensor<T>& y) {
  const T* p = a.data();
  const T* q = b.data();
  T* out = y.data();
  const std::int64_t n = y.numel();
#pragma omp parallel for schedule(static)
  for (std::int64_t i = 0; i < n; ++i) out[i] = p[i] + q[i];
}

// requires: as add_forward. ensures: y = max(a + b, 0) (its gradient is relu_backward on y).
template <class T>
void add_relu_forward(const Tensor<T>& a, const Tensor<T>& b, Tensor<T>& y) {
  const T* p = a.data();
  const T* q = b.data();
  T* out = y.data();
  const std::int64_t n = y.numel();
#pragma omp parallel for schedule(static)
  for (std::int64_t i = 0; i < n; ++i) {
    const T sum = p[i] + q[i];
    out[i] = sum > T(0) ? sum : T(0);
  }
}

// requires: x and y hold the same number of elements (y may be x). ensures: y = scale * x + offset.
template <class T>
void scale_shift(const Tensor<T>& x, T scale, T offset, Tensor<T>& y) {
  const T* in = x.data();
  T* out = y.data();
  const std::int64_t n = y.numel();
#pragma omp parallel for schedule(static)
  for (std::int64_t i = 0; i < n; ++i) out[i] = scale * in[i] + offset;
}

}  // namespace cpu
}  // namespace tinynet
