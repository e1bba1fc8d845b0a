// tinynet/backend/cpu/register_kernel.hpp: tinynet's register kernel for floats on CPUs with
// AVX2 + FMA (where TINYNET_REGISTER_KERNEL is defined): up to six rows of A against one or
// two panels of B, 16 floats wide each.
//
// C[r][0, columns) (+)= sum over k of A(r, k) * B(k, 0, columns) for up to six rows r, where
// B's columns come in panels [k][16] panel_stride floats apart. Per k, six broadcasts of A and
// 12 FMAs into 12 accumulators:
//   - AVX2: a 6 x 16 tile (BLIS's Haswell kernel), one panel of two 8-float registers;
//   - AVX-512: a 6 x 32 tile, two panels of one 16-float register each, read by masked loads
//     (lanes past `columns` read as zero and are never written).
// A(r, k) = A[r * row_step + k * k_step], so the same kernel reads A's rows in place
// (row_step = lda, k_step = 1: the Winograd products) or a packed block of six rows
// (row_step = 1, k_step = 6: backend/cpu/packed_gemm.hpp).
#pragma once

#include <cstdint>

#if defined(__GNUC__) && defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define TINYNET_REGISTER_KERNEL 1
#endif

namespace tinynet {
namespace cpu {
namespace kernel {

constexpr int panel_width = 16;  // floats per panel row
constexpr int max_rows = 6;      // rows of A per call
#ifdef __AVX512F__
constexpr int max_columns = 2 * panel_width;  // columns per call: two panels
#else
constexpr int max_columns = panel_width;  // columns per call: one panel
#endif

#ifdef TINYNET_REGISTER_KERNEL
namespace detail {

#ifdef __AVX512F__
using Vector = __m512;  // 16 floats
inline Vector zero() { return _mm512_setzero_ps(); }
inline Vector broadcast(const float* value) { return _mm512_set1_ps(*value); }
inline Vector multiply_add(Vector a, Vector b, Vector c) { return _mm512_fmadd_ps(a, b, c); }
#else
using Vector = __m256;  // 8 floats
inline Vector zero() { return _mm256_setzero_ps(); }
inline Vector broadcast(const float* value) { return _mm256_broadcast_ss(value); }
inline Vector multiply_add(Vector a, Vector b, Vector c) { return _mm256_fmadd_ps(a, b, c); }
#endif

// ensures: row r of A, or row 0 for a row past `rows` (no pointer past the rows).
template <int rows>
const float* row_at(const float* A, std::int64_t row_step, int r) {
  return r < rows ? A + r * row_step : A;
}

// requires: load_b(k, v) the v-th vector (0, or 1 when `two`) of B's row k, for k < K.
// ensures: sums[r][v] = sum over k of A(r, k) * load_b(k, v) for r < rows. The loop keeps
// the twelve sums in named variables (GCC keeps an array of them in memory, 2x slower);
// rows past `rows` are compiled out. Inlined into its caller, so that load_b's state (the
// panels' starts, masks) stays in registers.
template <int rows, bool two, class LoadB>
[[gnu::always_inline]] inline void multiply_rows(const float* A, std::int64_t row_step, std::int64_t k_step,
                                                 std::int64_t K, LoadB&& load_b, Vector (&sums)[6][2]) {
  const float *a0 = A, *a1 = row_at<rows>(A, row_step, 1), *a2 = row_at<rows>(A, row_step, 2);
  const float *a3 = row_at<rows>(A, row_step, 3), *a4 = row_at<rows>(A, row_step, 4);
  const float* a5 = row_at<rows>(A, row_step, 5);
  Vector s00 = zero(), s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00;
  Vector s30 = s00, s31 = s00, s40 = s00, s41 = s00, s50 = s00, s51 = s00;
  for (std::int64_t k = 0; k < K; ++k) {
    const Vector b0 = load_b(k, 0);
    const Vector b1 = two ? load_b(k, 1) : b0;
    const std::int64_t at = k * k_step;
    const auto row = [&](const float* a_row, Vector& first, Vector& second) {
      const Vector value = broadcast(a_row + at);
      first = multiply_add(value, b0, first);
      if constexpr (two) second = multiply_add(value, b1, second);
    };
    row(a0, s00, s01);
    if constexpr (rows > 1) row(a1, s10, s11);
    if constexpr (rows > 2) row(a2, s20, s21);
    if constexpr (rows > 3) row(a3, s30, s31);
    if constexpr (rows > 4) row(a4, s40, s41);
    if constexpr (rows > 5) row(a5, s50, s51);
  }
  const Vector named[6][2] = {{s00, s01}, {s10, s11}, {s20, s21}, {s30, s31}, {s40, s41}, {s50, s51}};
  for (int r = 0; r < 6; ++r)
    for (int v = 0; v < 2; ++v) sums[r][v] = named[r][v];
}

#ifdef __AVX512F__
inline __mmask16 lanes(int count) { return count >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << count) - 1u); }

// requires: panels 1 or 2; 16 * (panels - 1) < columns <= 16 * panels.
// ensures: the 6 x 32 tile (see the file comment): one 16-float register per panel.
template <int rows, int panels, bool accumulate>
void rows_product(const float* A, std::int64_t row_step, std::int64_t k_step, const float* panel,
                  std::int64_t panel_stride, std::int64_t K, float* C, std::int64_t ldc, int columns) {
  const __mmask16 masks[2] = {lanes(columns), panels == 2 ? lanes(columns - 16) : __mmask16(0)};
  const float* starts[2] = {panel, panels == 2 ? panel + panel_stride : panel};
  Vector sums[6][2];
  multiply_rows<rows, panels == 2>(
      A, row_step, k_step, K,
      [&](std::int64_t k, int p) { return _mm512_maskz_loadu_ps(masks[p], starts[p] + k * panel_width); }, sums);
  for (int r = 0; r < rows; ++r)
    for (int p = 0; p < panels; ++p) {
      float* out = C + r * ldc + p * panel_width;
      const __m512 sum = accumulate ? _mm512_add_ps(_mm512_maskz_loadu_ps(masks[p], out), sums[r][p]) : sums[r][p];
      _mm512_mask_storeu_ps(out, masks[p], sum);
    }
}

#else
// requires: vectors 1 or 2; 8 * (vectors - 1) < columns <= 8 * vectors; each panel row's
// first 8 * vectors floats readable (panel_stride unused: one panel).
// ensures: the 6 x 16 tile (see the file comment): a panel's two halves in two registers.
template <int rows, int vectors, bool accumulate>
void rows_product(const float* A, std::int64_t row_step, std::int64_t k_step, const float* panel, std::int64_t,
                  std::int64_t K, float* C, std::int64_t ldc, int columns) {
  Vector sums[6][2];
  multiply_rows<rows, vectors == 2>(
      A, row_step, k_step, K, [&](std::int64_t k, int v) { return _mm256_load_ps(panel + k * panel_width + 8 * v); },
      sums);
  for (int r = 0; r < rows; ++r) {
    float* out = C + r * ldc;
    if (columns == 8 * vectors) {
      for (int v = 0; v < vectors; ++v)
        _mm256_storeu_ps(out + v * 8,
                         accumulate ? _mm256_add_ps(_mm256_loadu_ps(out + v * 8), sums[r][v]) : sums[r][v]);
    } else {  // a last, partial panel: masked loads and stores of the live lanes
      for (int v = 0; v < vectors; ++v) {
        const __m256i live =
            _mm256_cmpgt_epi32(_mm256_set1_epi32(columns - 8 * v), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        const __m256 sum =
            accumulate ? _mm256_add_ps(_mm256_maskload_ps(out + v * 8, live), sums[r][v]) : sums[r][v];
        _mm256_maskstore_ps(out + v * 8, live, sum);
      }
    }
  }
}

#endif

// ensures: rows_product with both halves of the tile where the columns reach the second.
template <int rows, bool accumulate>
void product(const float* A, std::int64_t row_step, std::int64_t k_step, const float* panel,
             std::int64_t panel_stride, std::int64_t K, float* C, std::int64_t ldc, int columns) {
  if (columns > max_columns / 2)
    rows_product<rows, 2, accumulate>(A, row_step, k_step, panel, panel_stride, K, C, ldc, columns);
  else
    rows_product<rows, 1, accumulate>(A, row_step, k_step, panel, panel_stride, K, C, ldc, columns);
}

}  // namespace detail

// requires: 1 <= rows <= 6; 1 <= columns <= max_columns; A(r, k) readable for r < rows,
// k < K; the panels holding columns [0, columns) ([K][16] each, 32-byte aligned, panel_stride
// floats apart) readable for whole 8-float halves (AVX2; AVX-512 reads only the live lanes);
// C rows ldc apart.
// ensures: C[r][0, columns) = (accumulate ? C[r][.] : 0) + sum over k < K of A(r, k) *
// B(k, .) for r < rows; nothing else of C is written.
template <bool accumulate = false>
void panel_product(int rows, const float* A, std::int64_t row_step, std::int64_t k_step, const float* panel,
                   std::int64_t panel_stride, std::int64_t K, float* C, std::int64_t ldc, int columns) {
  switch (rows) {
    case 6: return detail::product<6, accumulate>(A, row_step, k_step, panel, panel_stride, K, C, ldc, columns);
    case 5: return detail::product<5, accumulate>(A, row_step, k_step, panel, panel_stride, K, C, ldc, columns);
    case 4: return detail::product<4, accumulate>(A, row_step, k_step, panel, panel_stride, K, C, ldc, columns);
    case 3: return detail::product<3, accumulate>(A, row_step, k_step, panel, panel_stride, K, C, ldc, columns);
    case 2: return detail::product<2, accumulate>(A, row_step, k_step, panel, panel_stride, K, C, ldc, columns);
    default: return detail::product<1, accumulate>(A, row_step, k_step, panel, panel_stride, K, C, ldc, columns);
  }
}
#endif

}  // namespace kernel
}  // namespace cpu
}  // namespace tinynet
