// tinynet/backend/cpu/activation.hpp: elementwise ReLU kernels.
#pragma once

#include <cstdint>

#include "tinynet/core/tensor.hpp"

namespace tinynet {
namespace cpu {

// ensures: y = max(x, 0) elementwise.
template <class T>
void relu_forward(const Tensor<T>& x, Tensor<T>& y) {
  const T* in = x.data();
  T* out = y.data();
  const std::int64_t n = x.numel();
#pragma omp parallel for schedule(static)
  for (std::int64_t i = 0; i < n; ++i) out[i] = in[i] > T(0) ? in[i] : T(0);
}

// requires: y the output of relu_forward. ensures: dx = dy where y > 0, else 0.
template <class T>
void relu_backward(const Tensor<T>& y, const Tensor<T>& dy, Tensor<T>& dx) {
  const T* out = y.data();
  const T* g = dy.data();
  T* d = dx.data();
  const std::int64_t n = y.numel();
#pragma omp parallel for schedule(static)
  for (std::int64_t i = 0; i < n; ++i) d[i] = out[i] > T(0) ? g[i] : T(0);
}

}  // namespace cpu
}  // namespace tinynet
