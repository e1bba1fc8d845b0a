// tinynet/backend/cpu/gemm.hpp: row-major GEMM on raw pointers.
//
// C = alpha * op(A) * op(B) + beta * C, all matrices row-major with leading
// dimensions lda/ldb/ldc (op = transpose when the flag is set). Floats on CPUs with AVX2 +
// FMA (AVX-512 too) run on tinynet's packed GEMM (backend/cpu/packed_gemm.hpp) at the shapes
// where it is faster (packed::suits) when beta is 0 or 1; everything else on Eigen's product.
// Threading: gemm() splits C into one block of rows or columns per OpenMP thread
// (along the longer side) and runs a single-threaded Eigen product on each; Eigen's
// own splitting is poor for the flat shapes convolutions produce (about 3x slower on
// 32 x 57600 x 288; `tinynet_kernels --benchmark_filter=gemm/` times this split). Call it
// outside parallel regions.
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include <Eigen/Core>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "tinynet/backend/cpu/packed_gemm.hpp"

namespace tinynet {
namespace cpu {

template <class T>
using RowMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using ConstMatrixMap = Eigen::Map<const RowMatrix<T>, Eigen::Unaligned, Eigen::OuterStride<>>;
template <class T>
using MatrixMap = Eigen::Map<RowMatrix<T>, Eigen::Unaligned, Eigen::OuterStride<>>;

// requires: op(A) is M x K, op(B) is K x N, C is M x N; pointers valid for those sizes.
// ensures: C computed on the calling thread only.
template <class T>
void gemm_serial(bool trans_a, bool trans_b, std::int64_t M, std::int64_t N, std::int64_t K, T alpha, const T* A,
          std::int64_t lda, const T* B, std::int64_t ldb, T beta, T* C, std::int64_t ldc) {
  if (M == 0 || N == 0) return;
#ifdef TINYNET_REGISTER_KERNEL
  if constexpr (std::is_same_v<T, float>)
    if (packed::suits(M, N, K) && (beta == 0.0f || beta == 1.0f))
      return packed::gemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
#endif
  MatrixMap<T> c(C, M, N, Eigen::OuterStride<>(ldc));
  if (beta == T(0))
    c.setZero();
  else if (beta != T(1))
    c *= beta;
  if (K == 0) return;
  ConstMatrixMap<T> a(A, trans_a ? K : M, trans_a ? M : K, Eigen::OuterStride<>(lda));
  ConstMatrixMap<T> b(B, trans_b ? N : K, trans_b ? K : N, Eigen::OuterStride<>(ldb));
  if (!trans_a && !trans_b)
    c.noalias() += alpha * a * b;
  else if (trans_a && !trans_b)
    c.noalias() += alpha * a.transpose() * b;
  else if (!trans_a && trans_b)
    c.noalias() += alpha * a * b.transpose();
  else
    c.noalias() += alpha * a.transpose() * b.transpose();
}

// Whether gemm_grouped() reads the groups in one packed product (floats with the register
// kernel) or runs one product per group.
template <class T>
constexpr bool packs_groups() {
#ifdef TINYNET_REGISTER_KERNEL
  return std::is_same_v<T, float>;
#else
  return false;
#endif
}

// requires: B holds matrices of `group` columns (the last may be narrower) and rows ldb apart,
// group_stride apart (a slab of NCHW samples: C channel rows, group = H*W pixels). Side by
// side they make X: K x N (trans_b false: C = A X, N grouped) or N x K (trans_b true: C = A X^T,
// K grouped). A (M x K) and C (M x N) row-major; beta 0 or 1.
// ensures: C = alpha * A * op(X) + beta * C, on the calling thread.
template <class T>
void gemm_grouped(bool trans_b, std::int64_t M, std::int64_t N, std::int64_t K, T alpha, const T* A, std::int64_t lda,
                  const T* B, std::int64_t ldb, std::int64_t group, std::int64_t group_stride, T beta, T* C,
                  std::int64_t ldc) {
#ifdef TINYNET_REGISTER_KERNEL
  if constexpr (packs_groups<T>())
    if (packed::suits(M, N, K))
      return packed::gemm(false, trans_b, M, N, K, alpha, A, lda, packed::StoredMatrix{B, ldb, group, group_stride},
                          beta, C, ldc);
#endif
  const std::int64_t grouped = trans_b ? K : N;
  for (std::int64_t j = 0; j < grouped; j += group) {
    const std::int64_t width = std::min(group, grouped - j);
    const T* b = B + j / group * group_stride;
    if (trans_b)  // one slice of the depth per group, summed into C
      gemm_serial<T>(false, true, M, N, width, alpha, A + j, lda, b, ldb, j == 0 ? beta : T(1), C, ldc);
    else
      gemm_serial<T>(false, false, M, width, K, alpha, A, lda, b, ldb, beta, C + j, ldc);
  }
}

// requires: as gemm_serial. ensures: the same C, computed by the OpenMP threads.
template <class T>
void gemm(bool trans_a, bool trans_b, std::int64_t M, std::int64_t N, std::int64_t K, T alpha, const T* A,
          std::int64_t lda, const T* B, std::int64_t ldb, T beta, T* C, std::int64_t ldc) {
  int threads = 1;
#ifdef _OPENMP
  if (!omp_in_parallel() && 2.0 * M * N * K > 4e6) threads = omp_get_max_threads();
#endif
  if (threads <= 1) return gemm_serial(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  const bool split_rows = M >= N;
  const std::int64_t extent = split_rows ? M : N;
  const std::int64_t align = 16;  // keep blocks a multiple of a SIMD/register tile
  const std::int64_t chunk = ((extent + threads - 1) / threads + align - 1) / align * align;
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int t = 0; t < threads; ++t) {
    const std::int64_t begin = t * chunk, end = std::min(extent, begin + chunk);
    if (begin >= end) continue;
    if (split_rows) {
      const T* a = trans_a ? A + begin : A + begin * lda;
      gemm_serial(trans_a, trans_b, end - begin, N, K, alpha, a, lda, B, ldb, beta, C + begin * ldc, ldc);
    } else {
      const T* b = trans_b ? B + begin * ldb : B + begin;
      gemm_serial(trans_a, trans_b, M, end - begin, K, alpha, A, lda, b, ldb, beta, C + begin, ldc);
    }
  }
}

}  // namespace cpu
}  // namespace tinynet
