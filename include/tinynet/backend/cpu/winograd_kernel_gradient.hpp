// tinynet/backend/cpu/winograd_kernel_gradient.hpp: the kernel gradient of a 3x3 stride-1
// convolution by Winograd's F(2x2,3x3), F(3x3,3x3) or F(4x4,3x3), on the CPU.
//
// Layouts and tiles as backend/cpu/winograd_conv3x3.hpp. The forward pass of one tile is
// Y = A^T [U . V] A with U = G g G^T, V = B^T d B, so the loss gradient of the kernel g is
//   dg = G^T [sum over tiles of (A dY A^T) . V] G.
// For a block of tiles:
//   1. V [C][alpha^2][tiles] from x, as in the forward pass; D [OC][alpha^2][tiles] = A dY A^T
//      from each tile's m x m gradient (zeros past the output's edge), eight tiles at a time;
//   2. alpha^2 GEMMs over the block's tiles: dU[xi] += D[xi] V[xi]^T ([OC, C]), by the
//      register-kernel products of winograd_products.hpp for floats (V then in channel panels).
// The blocks run one after another, each step shared by the OpenMP threads (the GEMMs by
// xi, so that no thread needs its own copy of dU); at the end dg = G^T dU G per channel pair.
// Multiplications per tile and channel pair: alpha^2 (16 or 36) against im2col's 9 m^2 (36
// or 144).
#pragma once

#include <algorithm>
#include <cstdint>

#include "tinynet/backend/conv_geometry.hpp"
#include "tinynet/backend/cpu/gemm.hpp"
#include "tinynet/backend/cpu/winograd_conv3x3.hpp"
#include "tinynet/backend/cpu/winograd_transforms.hpp"
#include "tinynet/core/error.hpp"
#include "tinynet/core/tensor.hpp"

namespace tinynet {
namespace cpu {
namespace winograd {

// ensures: D[oc][xi][t] (rows ld apart) = (A dY A^T)[xi] for output channel oc of the tiles
// of groups [group_begin, group_end) of the block starting at tile `first` (t counted from
// `first`).
template <class F, class T>
void transform_output_gradient(const T* dy, const ConvGeometry& g, const TilePlan& plan, std::int64_t first,
                               std::int64_t group_begin, std::int64_t group_end, T* D, std::int64_t ld) {
  transform_windows<F::m, F::m, F::alpha>(dy, g.out_channels, g.out_h, g.out_w, 0, 0, plan, first, group_begin,
                                          group_end, D, rows_layout(F::alpha * F::alpha, ld),
                                          [](const auto& y, auto& u) { winograd_output_gradient_2d<F>(y, u); });
}

// ensures: dkernel[oc][c] = G^T dU[.][oc][c] G for every channel pair, dU [alpha^2][OC][C];
// eight input channels at a time in SIMD lanes.
template <class F, class T>
void transform_kernel_gradient(const T* dU, std::int64_t OC, std::int64_t C, T* dkernel) {
  constexpr int a = F::alpha;
  const std::int64_t column_groups = (C + lanes - 1) / lanes, matrix = OC * C;
#pragma omp parallel for schedule(static)
  for (std::int64_t task = 0; task < OC * column_groups; ++task) {
    const std::int64_t oc = task / column_groups, first = task % column_groups * lanes;
    const int count = static_cast<int>(std::min<std::int64_t>(lanes, C - first));
    Lanes<T> u[a][a], k[3][3];
    for (int i = 0; i < a; ++i)
      for (int j = 0; j < a; ++j) {
        const T* from = dU + (i * a + j) * matrix + oc * C + first;
        for (int l = 0; l < lanes; ++l) u[i][j].v[l] = l < count ? from[l] : T(0);
      }
    winograd_kernel_gradient_2d<F>(u, k);
    for (int l = 0; l < count; ++l) {
      T* out = dkernel + (oc * C + first + l) * 9;
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) out[i * 3 + j] = k[i][j].v[l];
    }
  }
}

template <class F, class T>
void backward_kernel(const Tensor<T>& x, const Tensor<T>& dy, Tensor<T>& dkernel, const ConvGeometry& g,
                     WinogradWorkspace<T>& ws) {
  constexpr std::int64_t a2 = F::alpha * F::alpha;
  const std::int64_t C = g.channels, OC = g.out_channels;
  const TilePlan plan(x.dim(0), g, F::m, F::alpha, sizeof(T));  // the tiles; the blocks are cut below
  if (plan.groups == 0) return dkernel.fill(T(0));
  const std::int64_t group_bytes = a2 * (C + OC) * lanes * std::int64_t(sizeof(T));
  const std::int64_t block_groups =
      std::min(plan.groups, std::clamp(block_bytes_target / group_bytes, min_block_groups, max_block_groups));
  const std::int64_t blocks = (plan.groups + block_groups - 1) / block_groups, ld = block_groups * lanes;
  // V in channel panels where the register kernel applies, in rows otherwise; D in rows.
  constexpr bool panels = BlockBuffers<T>::panels;
  const std::int64_t v_size = panels ? a2 * channel_panels(C) * panel_channels * ld : a2 * C * ld;
  const TileLayout v_layout = panels ? channel_panel_layout(C, ld) : rows_layout(a2, ld);
  ws.kernel.resize(Shape{a2, OC, C});  // dU
  ws.tiles.resize(Shape{v_size + a2 * OC * ld});
  T* dU = ws.kernel.data();
  T* V = ws.tiles.data();
  T* D = V + v_size;
#pragma omp parallel num_threads(plan.threads)
  for (std::int64_t b = 0; b < blocks; ++b) {
    const std::int64_t first = b * ld, groups = std::min(block_groups, plan.groups - b * block_groups);
#pragma omp for schedule(static)
    for (std::int64_t group = 0; group < groups; group += 2) {  // pairs: see transform_windows
      const std::int64_t end = std::min(group + 2, groups);
      transform_input<F>(x.data(), g, plan, first, group, end, V, v_layout);
      transform_output_gradient<F>(dy.data(), g, plan, first, group, end, D, ld);
    }
#pragma omp for schedule(dynamic)
    for (std::int64_t xi = 0; xi < a2; ++xi) {
#ifdef TINYNET_REGISTER_KERNEL
      if constexpr (panels) {
        multiply_kernel_gradient(D, V, dU, OC, C, groups * lanes, ld, a2, b > 0, xi, xi + 1);
        continue;
      }
#endif
      gemm_serial<T>(false, true, OC, C, groups * lanes, T(1), D + xi * ld, a2 * ld, V + xi * ld, a2 * ld,
                     b == 0 ? T(0) : T(1), dU + xi * OC * C, C);
    }
  }
  transform_kernel_gradient<F>(dU, OC, C, dkernel.data());
}

}  // namespace winograd

// requires: output_tile m in 2, 3, 4 (F(m x m,3x3)); x the input of the forward pass
// [N,C,H,W], dy [N,OC,OH,OW], dkernel sized [OC,C,3,3]; g 3x3 stride 1.
// ensures: dkernel = the gradient of conv(x, kernel) with respect to the kernel, given dy
// (overwritten).
template <class T>
void winograd_conv2d_backward_kernel(const Tensor<T>& x, const Tensor<T>& dy, Tensor<T>& dkernel,
                                     const ConvGeometry& g, int output_tile, WinogradWorkspace<T>& ws) {
  with_winograd_tile<T>("winograd_conv2d_backward_kernel", g, output_tile, [&](auto tile) {
    winograd::backward_kernel<decltype(tile)>(x, dy, dkernel, g, ws);
  });
}

}  // namespace cpu
}  // namespace tinynet
