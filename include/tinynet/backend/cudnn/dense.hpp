// tinynet/backend/cudnn/dense.hpp: fully connected layer ops on CUDA tensors through cuBLAS.
//
// Layouts as backend/cpu/dense.hpp (row-major x [N,IN], kernel [IN,OUT], y [N,OUT]).
// cuBLAS is column-major; a row-major C = op(A) op(B) is computed as the column-major
// C^T = op(B)^T op(A)^T, i.e. cublas<t>gemm with the operands swapped (no copies).
#pragma once

#include <cstdint>

#include <cublas_v2.h>

#include "tinynet/backend/cudnn/descriptors.hpp"
#include "tinynet/backend/cudnn/handles.hpp"
#include "tinynet/backend/cudnn/kernels.hpp"
#include "tinynet/backend/cudnn/status.hpp"
#include "tinynet/core/tensor.hpp"

namespace tinynet {
namespace cudnn {

namespace detail {
inline cublasStatus_t cublas_gemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                                  const float* alpha, const float* a, int lda, const float* b, int ldb,
                                  const float* beta, float* c, int ldc) {
  return cublasSgemm(h, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
inline cublasStatus_t cublas_gemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                                  const double* alpha, const double* a, int lda, const double* b, int ldb,
                                  const double* beta, double* c, int ldc) {
  return cublasDgemm(h, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

// requires: row-major op(A) M x K, op(B) K x N, C M x N on the device.
// ensures: C = op(A) * op(B) (overwritten), queued on this thread's stream.
template <class T>
void gemm_row_major(const char* op, bool trans_a, bool trans_b, std::int64_t M, std::int64_t N, std::int64_t K,
                    const T* A, std::int64_t lda, const T* B, std::int64_t ldb, T* C, std::int64_t ldc) {
  const T one = 1, zero = 0;
  check_cublas(cublas_gemm(CudaHandles::current().cublas(), trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                           trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, to_int(N, op), to_int(M, op), to_int(K, op), &one, B,
                           to_int(ldb, op), A, to_int(lda, op), &zero, C, to_int(ldc, op)),
               op);
}
}  // namespace detail

// requires: CUDA tensors x [N,IN], kernel [IN,OUT], bias empty or [OUT], y [N,OUT].
// ensures: y = x * kernel + bias.
template <class T>
void dense_forward(const Tensor<T>& x, const Tensor<T>& kernel, const Tensor<T>& bias, Tensor<T>& y) {
  const std::int64_t N = x.dim(0), IN = kernel.dim(0), OUT = kernel.dim(1);
  detail::gemm_row_major("dense_forward: cublas gemm", false, false, N, OUT, IN, x.data(), IN, kernel.data(), OUT,
                         y.data(), OUT);
  if (!bias.empty())
    check_cuda(kernels::add_row_vector(y.data(), bias.data(), N, OUT, current_stream()), "dense_forward: bias");
}

// ensures: each non-null output overwritten: dx = dy kernel^T, dkernel = x^T dy, dbias = sum_n dy.
template <class T>
void dense_backward(const Tensor<T>& x, const Tensor<T>& kernel, const Tensor<T>& dy, Tensor<T>* dx,
                    Tensor<T>* dkernel, Tensor<T>* dbias) {
  const std::int64_t N = x.dim(0), IN = kernel.dim(0), OUT = kernel.dim(1);
  if (dx)
    detail::gemm_row_major("dense_backward: cublas gemm (dx)", false, true, N, IN, OUT, dy.data(), OUT,
                           kernel.data(), OUT, dx->data(), IN);
  if (dkernel)
    detail::gemm_row_major("dense_backward: cublas gemm (dkernel)", true, false, IN, OUT, N, x.data(), IN,
                           dy.data(), OUT, dkernel->data(), OUT);
  if (dbias)
    check_cuda(kernels::column_sums(dy.data(), dbias->data(), N, OUT, current_stream()), "dense_backward: dbias");
}

}  // namespace cudnn
}  // namespace tinynet
