// tinynet/backend/cpu/activation.hpp: elementwise ReLU and GELU kernels.
#pragma once

#include <Eigen/Core>
#include <unsupported/Eigen/SpecialFunctions>

#include <algorithm>
#include <cmath>
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

namespace detail {
// ensures: fn(begin, count) called for consecutive blocks covering [0, n), the blocks shared
// out among the OpenMP threads (each block a few pages, so Eigen vectorises within it).
template <class Fn>
void for_each_block(std::int64_t n, const Fn& fn) {
  constexpr std::int64_t block = 4096;
  const std::int64_t blocks = (n + block - 1) / block;
#pragma omp parallel for schedule(static)
  for (std::int64_t b = 0; b < blocks; ++b) fn(b * block, std::min(block, n - b * block));
}

template <class T>
using ArrayMap = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
template <class T>
using ConstArrayMap = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;
}  // namespace detail

// ensures: y = x * Phi(x) = x/2 * (1 + erf(x / sqrt(2))) elementwise (GELU, PyTorch's exact
// form; float uses Eigen's vectorised erf, accurate to a few ulp; double uses std::erf).
template <class T>
void gelu_forward(const Tensor<T>& x, Tensor<T>& y) {
  const T* in = x.data();
  T* out = y.data();
  detail::for_each_block(x.numel(), [&](std::int64_t begin, std::int64_t count) {
    const detail::ConstArrayMap<T> v(in + begin, count);
    detail::ArrayMap<T>(out + begin, count) = T(0.5) * v * (T(1) + (v * T(M_SQRT1_2)).erf());
  });
}

// requires: x the input of gelu_forward. ensures: dx = dy * (Phi(x) + x * phi(x)), phi the
// standard normal density exp(-x^2/2) / sqrt(2 pi).
template <class T>
void gelu_backward(const Tensor<T>& x, const Tensor<T>& dy, Tensor<T>& dx) {
  const T* in = x.data();
  const T* g = dy.data();
  T* d = dx.data();
  const T inv_sqrt_2pi = static_cast<T>(0.5 * M_2_SQRTPI * M_SQRT1_2);
  detail::for_each_block(x.numel(), [&](std::int64_t begin, std::int64_t count) {
    const detail::ConstArrayMap<T> v(in + begin, count);
    const detail::ConstArrayMap<T> grad(g + begin, count);
    detail::ArrayMap<T>(d + begin, count) =
        grad * (T(0.5) * (T(1) + (v * T(M_SQRT1_2)).erf()) + v * inv_sqrt_2pi * (T(-0.5) * v.square()).exp());
  });
}

}  // namespace cpu
}  // namespace tinynet
