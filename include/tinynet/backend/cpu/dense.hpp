// tinynet/backend/cpu/dense.hpp: fully connected layer kernels (Keras layout).
//
// x [N, IN], kernel [IN, OUT], bias empty or [OUT], y [N, OUT].
#pragma once

#include "tinynet/backend/cpu/gemm.hpp"
#include "tinynet/core/tensor.hpp"

namespace tinynet {
namespace cpu {

// ensures: y = x * kernel + bias.
template <class T>
void dense_forward(const Tensor<T>& x, const Tensor<T>& kernel, const Tensor<T>& bias, Tensor<T>& y) {
  const std::int64_t N = x.dim(0), IN = kernel.dim(0), OUT = kernel.dim(1);
  gemm<T>(false, false, N, OUT, IN, T(1), x.data(), IN, kernel.data(), OUT, T(0), y.data(), OUT);
  if (bias.empty()) return;
  T* out = y.data();
  const T* b = bias.data();
#pragma omp parallel for schedule(static)
  for (std::int64_t n = 0; n < N; ++n)
    for (std::int64_t o = 0; o < OUT; ++o) out[n * OUT + o] += b[o];
}

// ensures: each non-null output overwritten: dx = dy kernel^T, dkernel = x^T dy, dbias = sum_n dy.
template <class T>
void dense_backward(const Tensor<T>& x, const Tensor<T>& kernel, const Tensor<T>& dy, Tensor<T>* dx,
                    Tensor<T>* dkernel, Tensor<T>* dbias) {
  const std::int64_t N = x.dim(0), IN = kernel.dim(0), OUT = kernel.dim(1);
  if (dx) gemm<T>(false, true, N, IN, OUT, T(1), dy.data(), OUT, kernel.data(), OUT, T(0), dx->data(), IN);
  if (dkernel) gemm<T>(true, false, IN, OUT, N, T(1), x.data(), IN, dy.data(), OUT, T(0), dkernel->data(), OUT);
  if (dbias) {
    T* db = dbias->data();
    const T* g = dy.data();
    for (std::int64_t o = 0; o < OUT; ++o) db[o] = 0;
    for (std::int64_t n = 0; n < N; ++n)
      for (std::int64_t o = 0; o < OUT; ++o) db[o] += g[n * OUT + o];
  }
}

}  // namespace cpu
}  // namespace tinynet
