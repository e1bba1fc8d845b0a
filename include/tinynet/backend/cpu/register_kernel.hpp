// tinynet/backend/cpu/register_kernel.hpp: tinynet's 6 x 16 AVX2 + FMA register kernel (the
// tile of BLIS's Haswell kernel), for floats on CPUs with AVX2 + FMA and no AVX-512 (where
// TINYNET_REGISTER_KERNEL is defined).
//
// C[r][0, 16) (+)= sum over k of A(r, k) * panel[k][0, 16) for up to six rows r: per k one
// 16-float row of the panel (two AVX registers, L1-resident) and six broadcasts of A, 12
// FMAs into 12 accumulators. A(r, k) = A[r * row_step + k * k_step], so the same kernel reads
// A's rows in place (row_step = lda, k_step = 1: the Winograd products) or a packed block of
// six rows (row_step = 1, k_step = 6: backend/cpu/packed_gemm.hpp). With AVX-512 the callers
// keep Eigen, whose kernel has 16 lanes there (a 16-lane variant of this one is not written).
#pragma once

#include <cstdint>

#if defined(__GNUC__) && defined(__AVX2__) && defined(__FMA__) && !defined(__AVX512F__)
#include <immintrin.h>
#define TINYNET_REGISTER_KERNEL 1
#endif

namespace tinynet {
namespace cpu {
namespace kernel {

constexpr int panel_width = 16;  // floats per panel row: two AVX registers
constexpr int max_rows = 6;      // rows of A per call

#ifdef TINYNET_REGISTER_KERNEL
// requires: A(r, k) readable for r < rows, k < K; panel [K][16], 32-byte aligned, its first
// 8 * vectors columns used; C rows ldc apart; 1 <= columns <= 8 * vectors.
// ensures: C[r][0, columns) = (accumulate ? C[r][.] : 0) + sum over k of A(r, k) * panel[k][.]
// for r < rows. The up to twelve sums are named variables (GCC keeps an array of them in
// memory, 2x slower); rows past `rows` are compiled out.
template <int rows, int vectors, bool accumulate>
void rows_product(const float* A, std::int64_t row_step, std::int64_t k_step, const float* panel, std::int64_t K,
                  float* C, std::int64_t ldc, int columns) {
  static_assert(rows >= 1 && rows <= max_rows && (vectors == 1 || vectors == 2), "a 6 x 16 register tile");
  const auto row = [&](int r) { return r < rows ? A + r * row_step : A; };  // no pointer past the rows
  const float *a0 = A, *a1 = row(1), *a2 = row(2), *a3 = row(3), *a4 = row(4), *a5 = row(5);
  __m256 s00 = _mm256_setzero_ps(), s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00;
  __m256 s30 = s00, s31 = s00, s40 = s00, s41 = s00, s50 = s00, s51 = s00;
  for (std::int64_t k = 0; k < K; ++k) {
    const __m256 b0 = _mm256_load_ps(panel + k * panel_width);
    const __m256 b1 = vectors == 2 ? _mm256_load_ps(panel + k * panel_width + 8) : b0;
    const std::int64_t at = k * k_step;
    const auto multiply_add = [&](const float* a_row, __m256& first, __m256& second) {
      const __m256 a = _mm256_broadcast_ss(a_row + at);
      first = _mm256_fmadd_ps(a, b0, first);
      if constexpr (vectors == 2) second = _mm256_fmadd_ps(a, b1, second);
    };
    multiply_add(a0, s00, s01);
    if constexpr (rows > 1) multiply_add(a1, s10, s11);
    if constexpr (rows > 2) multiply_add(a2, s20, s21);
    if constexpr (rows > 3) multiply_add(a3, s30, s31);
    if constexpr (rows > 4) multiply_add(a4, s40, s41);
    if constexpr (rows > 5) multiply_add(a5, s50, s51);
  }
  const __m256 sums[6][2] = {{s00, s01}, {s10, s11}, {s20, s21}, {s30, s31}, {s40, s41}, {s50, s51}};
  for (int r = 0; r < rows; ++r) {
    float* out = C + r * ldc;
    if (columns == 8 * vectors) {
      for (int v = 0; v < vectors; ++v)
        _mm256_storeu_ps(out + v * 8,
                         accumulate ? _mm256_add_ps(_mm256_loadu_ps(out + v * 8), sums[r][v]) : sums[r][v]);
    } else {  // a last, partial panel
      alignas(32) float part[16];
      for (int v = 0; v < vectors; ++v) _mm256_store_ps(part + v * 8, sums[r][v]);
      for (int j = 0; j < columns; ++j) out[j] = accumulate ? out[j] + part[j] : part[j];
    }
  }
}

// requires: 1 <= rows <= 6; the rest as rows_product. ensures: rows_product<rows, ...>.
template <int vectors, bool accumulate = false>
void panel_product(int rows, const float* A, std::int64_t row_step, std::int64_t k_step, const float* panel,
                   std::int64_t K, float* C, std::int64_t ldc, int columns = 8 * vectors) {
  switch (rows) {
    case 6: return rows_product<6, vectors, accumulate>(A, row_step, k_step, panel, K, C, ldc, columns);
    case 5: return rows_product<5, vectors, accumulate>(A, row_step, k_step, panel, K, C, ldc, columns);
    case 4: return rows_product<4, vectors, accumulate>(A, row_step, k_step, panel, K, C, ldc, columns);
    case 3: return rows_product<3, vectors, accumulate>(A, row_step, k_step, panel, K, C, ldc, columns);
    case 2: return rows_product<2, vectors, accumulate>(A, row_step, k_step, panel, K, C, ldc, columns);
    default: return rows_product<1, vectors, accumulate>(A, row_step, k_step, panel, K, C, ldc, columns);
  }
}
#endif

}  // namespace kernel
}  // namespace cpu
}  // namespace tinynet
