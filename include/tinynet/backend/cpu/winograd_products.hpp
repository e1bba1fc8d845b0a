// tinynet/backend/cpu/winograd_products.hpp: where a Winograd pass keeps its transformed
// tiles, and the alpha^2 products of one block: over channels, M[xi] = U[xi] V[xi] (forward
// and backward-data), or over tiles, dU[xi] += D[xi] V[xi]^T (kernel gradient).
//
// A general GEMM copies both operands into cache-friendly panels before multiplying (Eigen's
// pack_lhs / pack_rhs: 14% of an F(4x4,3x3) pass at 256 channels) and clears C first when
// beta is 0 (3%). Here the input transform writes V straight into the panel layout the
// multiplication reads, and the products are written, not added, so neither copy nor
// clearing happens:
//   - rows layout (any T, Eigen's GEMM): V[c][xi][t], a channel's alpha^2 rows ld apart;
//   - panel layout (floats with AVX2 + FMA, no AVX-512): V[xi][p][c][16], tiles in panels
//     of 16 (two SIMD groups), each panel's channels one after the other, so the product of
//     a 6 x C slice of U and a panel reads 16 contiguous floats per channel (L1-resident) and
//     six rows of U by broadcasts: the 6 x 16 register tile of BLIS's Haswell kernel, 12 FMAs
//     per channel from 12 accumulators;
//   - channel-panel layout (the kernel gradient's V, same condition): V[xi][q][t][16], the
//     channels in panels of 16, each panel's tiles one after the other, so the same 6 x 16
//     product runs over the tiles with six rows of D (rows layout) broadcast.
// With AVX-512 the products stay with Eigen, whose kernel then uses 16 lanes against this
// kernel's 8 (a 16-lane variant of this kernel is not written yet).
#pragma once

#include <algorithm>
#include <cstdint>

#include "tinynet/backend/cpu/gemm.hpp"

#if defined(__GNUC__) && defined(__AVX2__) && defined(__FMA__) && !defined(__AVX512F__)
#include <immintrin.h>
#define TINYNET_WINOGRAD_PANELS 1
#endif

namespace tinynet {
namespace cpu {
namespace winograd {

constexpr int group_tiles = 8;   // tiles transformed together (one SIMD group)
constexpr int panel_tiles = 16;  // tiles per panel of the panel layout

constexpr int panel_channels = 16;  // channels per panel of the channel-panel layout

// Where the value of channel c, transform element xi, lane l of SIMD group `group` lives:
// offset(c, xi, group) + l * lane_stride.
struct TileLayout {
  std::int64_t channel_stride = 0, xi_stride = 0, panel_stride = 0;
  std::int64_t channels_per_panel = 1, lane_stride = 1;
  std::int64_t offset(std::int64_t c, std::int64_t xi, std::int64_t group) const {
    return c / channels_per_panel * channel_stride + c % channels_per_panel + xi * xi_stride +
           group / 2 * panel_stride + group % 2 * group_tiles * lane_stride;
  }
};

// ensures: the rows layout, [channel][xi][tile] with rows ld apart (ld a multiple of 8).
inline TileLayout rows_layout(std::int64_t alpha2, std::int64_t ld) { return {alpha2 * ld, ld, panel_tiles}; }

// ensures: the panel layout of `channels` channels and ld tiles (ld a multiple of 16).
inline TileLayout panel_layout(std::int64_t channels, std::int64_t ld) {
  return {panel_tiles, channels * ld, channels * panel_tiles};
}

// ensures: the number of channel panels of `channels` channels.
inline std::int64_t channel_panels(std::int64_t channels) { return (channels + panel_channels - 1) / panel_channels; }

// ensures: the channel-panel layout of `channels` channels and ld tiles (ld a multiple of 8):
// [xi][channel / 16][tile][channel % 16].
inline TileLayout channel_panel_layout(std::int64_t channels, std::int64_t ld) {
  return {ld * panel_channels, channel_panels(channels) * ld * panel_channels, 2 * group_tiles * panel_channels,
          panel_channels, panel_channels};
}

// requires: the rows layout (V: C channels, M: OC channels, both rows ld apart).
// ensures: M[xi] = U[xi] V[xi] for xi in [xi_begin, xi_end) of alpha2: [OC, cols] = [OC, C] x
// [C, cols], with U [alpha2][OC][C].
template <class T>
void multiply_rows(const T* U, const T* V, T* M, std::int64_t OC, std::int64_t C, std::int64_t cols, std::int64_t ld,
                   std::int64_t alpha2, std::int64_t xi_begin, std::int64_t xi_end) {
  for (std::int64_t xi = xi_begin; xi < xi_end; ++xi)
    gemm_serial<T>(false, false, OC, cols, C, T(1), U + xi * OC * C, C, V + xi * ld, alpha2 * ld, T(0), M + xi * ld,
                   alpha2 * ld);
}

#ifdef TINYNET_WINOGRAD_PANELS
namespace detail {
// requires: A rows lda apart (rows x K); panel [K][16], its first 8 * vectors columns used;
// C rows ldc apart; 1 <= columns <= 8 * vectors.
// ensures: C[r][0, columns) = (accumulate ? C[r][.] : 0) + sum over k of A[r][k] * panel[k][.]
// for r < rows. The up to twelve sums are named variables (GCC keeps an array of them in
// memory, 2x slower); rows past `rows` are compiled out.
template <int rows, int vectors, bool accumulate>
void rows_product(const float* A, std::int64_t lda, const float* panel, std::int64_t K, float* C, std::int64_t ldc,
                  int columns) {
  static_assert(rows >= 1 && rows <= 6 && (vectors == 1 || vectors == 2), "a 6 x 16 register tile");
  const auto row = [&](int r) { return r < rows ? A + r * lda : A; };  // no pointer past the rows
  const float *a0 = A, *a1 = row(1), *a2 = row(2), *a3 = row(3), *a4 = row(4), *a5 = row(5);
  __m256 s00 = _mm256_setzero_ps(), s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00;
  __m256 s30 = s00, s31 = s00, s40 = s00, s41 = s00, s50 = s00, s51 = s00;
  for (std::int64_t k = 0; k < K; ++k) {
    const __m256 b0 = _mm256_load_ps(panel + k * panel_tiles);
    const __m256 b1 = vectors == 2 ? _mm256_load_ps(panel + k * panel_tiles + 8) : b0;
    const auto multiply_add = [&](const float* a_row, __m256& first, __m256& second) {
      const __m256 a = _mm256_broadcast_ss(a_row + k);
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
    } else {  // a last panel of fewer channels
      alignas(32) float part[16];
      for (int v = 0; v < vectors; ++v) _mm256_store_ps(part + v * 8, sums[r][v]);
      for (int j = 0; j < columns; ++j) out[j] = accumulate ? out[j] + part[j] : part[j];
    }
  }
}

// requires: 1 <= rows <= 6; the rest as rows_product. ensures: rows_product<rows, ...>.
template <int vectors, bool accumulate = false>
void panel_product(int rows, const float* A, std::int64_t lda, const float* panel, std::int64_t K, float* C,
                   std::int64_t ldc, int columns = 8 * vectors) {
  switch (rows) {
    case 6: return rows_product<6, vectors, accumulate>(A, lda, panel, K, C, ldc, columns);
    case 5: return rows_product<5, vectors, accumulate>(A, lda, panel, K, C, ldc, columns);
    case 4: return rows_product<4, vectors, accumulate>(A, lda, panel, K, C, ldc, columns);
    case 3: return rows_product<3, vectors, accumulate>(A, lda, panel, K, C, ldc, columns);
    case 2: return rows_product<2, vectors, accumulate>(A, lda, panel, K, C, ldc, columns);
    default: return rows_product<1, vectors, accumulate>(A, lda, panel, K, C, ldc, columns);
  }
}
}  // namespace detail

// requires: V in the panel layout (C channels, ld tiles, 32-byte aligned), M in the rows
// layout (OC channels, rows ld_m apart); cols <= ld, a multiple of 8.
// ensures: M[xi] = U[xi] V[xi] for xi in [xi_begin, xi_end) of alpha2 (columns [0, cols)).
inline void multiply_panels(const float* U, const float* V, float* M, std::int64_t OC, std::int64_t C,
                            std::int64_t cols, std::int64_t ld, std::int64_t ld_m, std::int64_t alpha2,
                            std::int64_t xi_begin, std::int64_t xi_end) {
  constexpr int row_block = 6;
  const TileLayout v_layout = panel_layout(C, ld);
  for (std::int64_t xi = xi_begin; xi < xi_end; ++xi) {
    const float* U_xi = U + xi * OC * C;
    for (std::int64_t first = 0; first < cols; first += panel_tiles) {
      const float* panel = V + v_layout.offset(0, xi, first / group_tiles);
      float* M_at = M + xi * ld_m + first;
      const bool full = cols - first >= panel_tiles;
      for (std::int64_t oc = 0; oc < OC; oc += row_block) {
        const int rows = static_cast<int>(std::min<std::int64_t>(row_block, OC - oc));
        if (full)
          detail::panel_product<2>(rows, U_xi + oc * C, C, panel, C, M_at + oc * alpha2 * ld_m, alpha2 * ld_m);
        else
          detail::panel_product<1>(rows, U_xi + oc * C, C, panel, C, M_at + oc * alpha2 * ld_m, alpha2 * ld_m);
      }
    }
  }
}

// requires: D in the rows layout (OC channels, rows ld apart), V in the channel-panel layout
// (C channels, ld tiles, 32-byte aligned) with the spare channels of its last panel finite;
// dU [alpha2][OC][C]; cols <= ld.
// ensures: dU[xi] = (accumulate ? dU[xi] : 0) + D[xi] V[xi]^T over tiles [0, cols), for xi in
// [xi_begin, xi_end).
inline void multiply_kernel_gradient(const float* D, const float* V, float* dU, std::int64_t OC, std::int64_t C,
                                     std::int64_t cols, std::int64_t ld, std::int64_t alpha2, bool accumulate,
                                     std::int64_t xi_begin, std::int64_t xi_end) {
  constexpr int row_block = 6;
  const TileLayout v_layout = channel_panel_layout(C, ld);
  for (std::int64_t xi = xi_begin; xi < xi_end; ++xi)
    for (std::int64_t c = 0; c < C; c += panel_channels) {
      const float* panel = V + v_layout.offset(c, xi, 0);
      const int columns = static_cast<int>(std::min<std::int64_t>(panel_channels, C - c));
      for (std::int64_t oc = 0; oc < OC; oc += row_block) {
        const int rows = static_cast<int>(std::min<std::int64_t>(row_block, OC - oc));
        const float* A = D + oc * alpha2 * ld + xi * ld;
        float* out = dU + (xi * OC + oc) * C + c;
        if (columns > 8)
          accumulate ? detail::panel_product<2, true>(rows, A, alpha2 * ld, panel, cols, out, C, columns)
                     : detail::panel_product<2, false>(rows, A, alpha2 * ld, panel, cols, out, C, columns);
        else
          accumulate ? detail::panel_product<1, true>(rows, A, alpha2 * ld, panel, cols, out, C, columns)
                     : detail::panel_product<1, false>(rows, A, alpha2 * ld, panel, cols, out, C, columns);
      }
    }
}
#endif

}  // namespace winograd
}  // namespace cpu
}  // namespace tinynet
