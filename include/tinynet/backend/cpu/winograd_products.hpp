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
//   - panel layout (floats with AVX2 + FMA): V[xi][p][c][16], tiles in panels of 16 (two
//     SIMD groups), each panel's channels one after the other, so the product of a 6 x C
//     slice of U and one panel (two with AVX-512) reads 16 contiguous floats per channel and
//     panel (L1-resident) and six rows of U by broadcasts: the register kernel's 6 x 16 or
//     6 x 32 tile (backend/cpu/register_kernel.hpp), 12 FMAs per channel from 12 accumulators;
//   - channel-panel layout (the kernel gradient's V, same condition): V[xi][q][t][16], the
//     channels in panels of 16, each panel's tiles one after the other, so the same product
//     runs over the tiles with six rows of D (rows layout) broadcast.
#pragma once

#include <algorithm>
#include <cstdint>

#include "tinynet/backend/cpu/gemm.hpp"
#include "tinynet/backend/cpu/register_kernel.hpp"

namespace tinynet {
namespace cpu {
namespace winograd {

constexpr int group_tiles = 8;   // tiles transformed together (one SIMD group)
constexpr int panel_tiles = kernel::panel_width;  // tiles per panel of the panel layout

constexpr int panel_channels = kernel::panel_width;  // channels per panel of the channel-panel layout

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

#ifdef TINYNET_REGISTER_KERNEL

// requires: V in the panel layout (C channels, ld tiles, 32-byte aligned), M in the rows
// layout (OC channels, rows ld_m apart); cols <= ld, a multiple of 8.
// ensures: M[xi] = U[xi] V[xi] for xi in [xi_begin, xi_end) of alpha2 (columns [0, cols)).
inline void multiply_panels(const float* U, const float* V, float* M, std::int64_t OC, std::int64_t C,
                            std::int64_t cols, std::int64_t ld, std::int64_t ld_m, std::int64_t alpha2,
                            std::int64_t xi_begin, std::int64_t xi_end) {
  constexpr int row_block = kernel::max_rows;
  const TileLayout v_layout = panel_layout(C, ld);
  for (std::int64_t xi = xi_begin; xi < xi_end; ++xi) {
    const float* U_xi = U + xi * OC * C;
    for (std::int64_t first = 0; first < cols; first += kernel::max_columns) {
      const float* panel = V + v_layout.offset(0, xi, first / group_tiles);
      float* M_at = M + xi * ld_m + first;
      const int columns = static_cast<int>(std::min<std::int64_t>(kernel::max_columns, cols - first));
      for (std::int64_t oc = 0; oc < OC; oc += row_block) {
        const int rows = static_cast<int>(std::min<std::int64_t>(row_block, OC - oc));
        kernel::panel_product(rows, U_xi + oc * C, C, 1, panel, v_layout.panel_stride, C, M_at + oc * alpha2 * ld_m,
                              alpha2 * ld_m, columns);
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
  constexpr int row_block = kernel::max_rows;
  const TileLayout v_layout = channel_panel_layout(C, ld);
  for (std::int64_t xi = xi_begin; xi < xi_end; ++xi)
    for (std::int64_t c = 0; c < C; c += kernel::max_columns) {
      const float* panel = V + v_layout.offset(c, xi, 0);
      const int columns = static_cast<int>(std::min<std::int64_t>(kernel::max_columns, C - c));
      for (std::int64_t oc = 0; oc < OC; oc += row_block) {
        const int rows = static_cast<int>(std::min<std::int64_t>(row_block, OC - oc));
        const float* A = D + oc * alpha2 * ld + xi * ld;
        float* out = dU + (xi * OC + oc) * C + c;
        if (accumulate)
          kernel::panel_product<true>(rows, A, alpha2 * ld, 1, panel, v_layout.channel_stride, cols, out, C, columns);
        else
          kernel::panel_product<false>(rows, A, alpha2 * ld, 1, panel, v_layout.channel_stride, cols, out, C, columns);
      }
    }
}
#endif

}  // namespace winograd
}  // namespace cpu
}  // namespace tinynet
