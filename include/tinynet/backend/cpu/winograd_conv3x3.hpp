// tinynet/backend/cpu/winograd_conv3x3.hpp: 3x3 stride-1 convolutions by Winograd's
// F(2x2,3x3), F(3x3,3x3) or F(4x4,3x3), forward and backward-data, on the CPU.
//
// Layouts as backend/cpu/conv2d_im2col.hpp: x [N,C,H,W], kernel [OC,C,3,3], y [N,OC,OH,OW];
// any padding (a tile reads zeros outside the input). The output is cut into m x m tiles
// (the last row and column of tiles may reach past it), numbered sample by sample, row by
// row. For a block of tiles:
//   1. each tile's alpha x alpha input window of each channel is transformed (B^T d B),
//      eight tiles at a time in SIMD lanes, into V [C][alpha^2][tiles] (a channel's alpha^2
//      rows side by side, so each group of tiles writes near itself);
//   2. alpha^2 GEMMs over the channels: M[xi] = U[xi] V[xi] (M [OC][alpha^2][tiles], the
//      xi-th matrix of V or M having rows alpha^2 rows apart), U [alpha^2][OC][C] the kernel
//      transformed once per call (G g G^T);
//   3. each output tile is transformed back (A^T M A) and written with the channel's
//      ConvOutputTransform.
// Blocks hold 64 to 256 tiles, sized so that V and M stay near the L2/L3 caches; the OpenMP
// threads share the blocks, or, when there are fewer blocks than threads (deep layers: few
// pixels), share each step of one block (the alpha^2 GEMMs among them).
// The backward-data pass is the forward pass of dy with the kernel rotated by 180 degrees,
// its channels swapped, and padding 2 - pad (the transposed convolution of stride 1).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>

#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__GNUC__) && defined(__AVX__)
#include <immintrin.h>
#endif

#include "tinynet/backend/conv_geometry.hpp"
#include "tinynet/backend/cpu/conv_output_transform.hpp"
#include "tinynet/backend/cpu/winograd_products.hpp"
#include "tinynet/backend/cpu/winograd_transforms.hpp"
#include "tinynet/backend/cpu/winograd_window_rows.hpp"
#include "tinynet/core/error.hpp"
#include "tinynet/core/tensor.hpp"

namespace tinynet {
namespace cpu {

template <class T>
struct WinogradWorkspace {
  Tensor<T> kernel;  // U: the transformed kernel
  Tensor<T> tiles;   // V then M of each block in flight (per thread, or one shared block)
};

// ensures: whether the Winograd path computes this convolution (3x3 kernel, stride 1).
inline bool winograd_applies(const ConvGeometry& g) {
  return g.kernel_h == 3 && g.kernel_w == 3 && g.stride_h == 1 && g.stride_w == 1;
}

namespace winograd {

constexpr int lanes = Lanes<float>::count;
constexpr std::int64_t min_block_groups = 8, max_block_groups = 32;  // 64 .. 256 tiles
constexpr std::int64_t block_bytes_target = std::int64_t(2) << 20;  // V + M of one block

// How a pass cuts its tiles: groups of `lanes` tiles, `block_groups` groups per block.
struct TilePlan {
  std::int64_t tiles_h = 0, tiles_w = 0, per_sample = 0, tiles = 0, groups = 0;
  std::int64_t block_groups = 0, blocks = 0;
  bool blocks_in_parallel = true;
  int threads = 1;

  TilePlan(std::int64_t batch, const ConvGeometry& g, int m, int alpha, std::size_t element_bytes) {
#ifdef _OPENMP
    threads = omp_in_parallel() ? 1 : omp_get_max_threads();
#endif
    tiles_h = (g.out_h + m - 1) / m;
    tiles_w = (g.out_w + m - 1) / m;
    per_sample = tiles_h * tiles_w;
    tiles = batch * per_sample;
    groups = (tiles + lanes - 1) / lanes;
    const std::int64_t group_bytes =
        std::int64_t(alpha) * alpha * (g.channels + g.out_channels) * lanes * std::int64_t(element_bytes);
    const std::int64_t fit = std::clamp(block_bytes_target / std::max<std::int64_t>(1, group_bytes),
                                        min_block_groups, max_block_groups);
    blocks = (groups + fit - 1) / fit;
    if (blocks >= threads) {  // the threads share the blocks: a multiple of them, evened out
      blocks = (blocks + threads - 1) / threads * threads;
      block_groups = (groups + blocks - 1) / blocks;
      blocks = (groups + block_groups - 1) / block_groups;
    } else {  // one block of everything, each step shared by the threads
      blocks_in_parallel = false;
      block_groups = groups;
      blocks = 1;
    }
  }
  std::int64_t block_columns() const { return block_groups * lanes; }
  std::int64_t groups_in(std::int64_t block) const {
    return std::min(block_groups, groups - block * block_groups);
  }
};

// ensures: U[xi][o][i] = (G k' G^T)[xi] for every output channel o and input channel i of
// the convolution computed: the kernel's own [OC][C] (transposed = false) or, for the
// backward-data pass, [C][OC] of the kernel rotated by 180 degrees (transposed = true).
// Eight consecutive columns of U (input channels, or output channels when transposed) are
// transformed together in SIMD lanes, so each store to U is a contiguous run.
template <class F, class T>
void transform_kernel(const T* kernel, std::int64_t OC, std::int64_t C, bool transposed, T* U) {
  constexpr int a = F::alpha;
  const std::int64_t rows = transposed ? C : OC, columns = transposed ? OC : C, matrix = OC * C;
  const std::int64_t column_groups = (columns + lanes - 1) / lanes;
#pragma omp parallel for schedule(static)
  for (std::int64_t task = 0; task < rows * column_groups; ++task) {
    const std::int64_t row = task / column_groups, first = task % column_groups * lanes;
    const int count = static_cast<int>(std::min<std::int64_t>(lanes, columns - first));
    Lanes<T> g[3][3], u[a][a];
    for (int l = 0; l < lanes; ++l) {
      const std::int64_t column = first + std::min(l, count - 1);  // spare lanes repeat the last column
      const std::int64_t oc = transposed ? column : row, c = transposed ? row : column;
      const T* k = kernel + (oc * C + c) * 9;
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) g[i][j].v[l] = transposed ? k[(2 - i) * 3 + (2 - j)] : k[i * 3 + j];
    }
    winograd_kernel_2d<F>(g, u);
    T* out = U + row * columns + first;
    for (int i = 0; i < a; ++i)
      for (int j = 0; j < a; ++j) {
        if (count == lanes)  // a fixed size: an inlined store, not a call
          std::memcpy(out + (i * a + j) * matrix, &u[i][j].v, sizeof(u[i][j].v));
        else
          std::memcpy(out + (i * a + j) * matrix, &u[i][j].v, sizeof(T) * count);
      }
  }
}

// ensures: where[i][j][l] = the offset from a channel's plane start of pixel (i, j) of the
// window of tile `first + l` (window origin (top, left) + tile position * m), its sample's
// offset `sample_stride` apart, or -1 outside the plane or past the last tile.
template <int rows, int columns>
void locate_window(const TilePlan& plan, std::int64_t first, int m, std::int64_t top, std::int64_t left,
                   std::int64_t height, std::int64_t width, std::int64_t sample_stride,
                   std::int64_t (&where)[rows][columns][lanes]) {
  for (int l = 0; l < lanes; ++l) {
    const std::int64_t tile = first + l;
    const std::int64_t n = tile / plan.per_sample, r = tile % plan.per_sample;
    const std::int64_t h0 = top + r / plan.tiles_w * m, w0 = left + r % plan.tiles_w * m;
    for (int i = 0; i < rows; ++i)
      for (int j = 0; j < columns; ++j) {
        const std::int64_t h = h0 + i, w = w0 + j;
        const bool inside = tile < plan.tiles && h >= 0 && h < height && w >= 0 && w < width;
        where[i][j][l] = inside ? n * sample_stride + h * width + w : -1;
      }
  }
}

// requires: to + l * stride 32-byte aligned for every lane l (floats with AVX).
// ensures: to[l * stride + k] = values[k].v[l] for lanes k, l: eight channels' values of eight
// tiles, written tile by tile (the channel-panel layout).
template <class T>
void store_transposed(const Lanes<T> (&values)[lanes], T* to, std::int64_t stride) {
#if defined(__GNUC__) && defined(__AVX__)
  if constexpr (std::is_same_v<T, float>) {  // an 8 x 8 transpose in registers
    __m256 r[lanes], t[lanes];
    for (int k = 0; k < lanes; ++k) r[k] = _mm256_load_ps(reinterpret_cast<const float*>(&values[k].v));
    for (int k = 0; k < lanes; k += 2) {
      t[k] = _mm256_unpacklo_ps(r[k], r[k + 1]);
      t[k + 1] = _mm256_unpackhi_ps(r[k], r[k + 1]);
    }
    for (int k = 0; k < lanes; k += 4) {
      r[k] = _mm256_shuffle_ps(t[k], t[k + 2], 0x44);
      r[k + 1] = _mm256_shuffle_ps(t[k], t[k + 2], 0xEE);
      r[k + 2] = _mm256_shuffle_ps(t[k + 1], t[k + 3], 0x44);
      r[k + 3] = _mm256_shuffle_ps(t[k + 1], t[k + 3], 0xEE);
    }
    for (int k = 0; k < 4; ++k) {
      _mm256_store_ps(to + k * stride, _mm256_permute2f128_ps(r[k], r[k + 4], 0x20));
      _mm256_store_ps(to + (k + 4) * stride, _mm256_permute2f128_ps(r[k], r[k + 4], 0x31));
    }
    return;
  }
#endif
  for (int l = 0; l < lanes; ++l)
    for (int k = 0; k < lanes; ++k) to[l * stride + k] = values[k].v[l];
}

// requires: source [batch, channels, height, width]; transform_2d(window, out) maps an n x n
// window of Lanes<T> to alpha x alpha.
// ensures: out at layout (c, xi, tile t) = transform_2d(the window of tile t)[xi] for channel
// c of the tiles of groups [group_begin, group_end) of the block starting at tile `first` (t
// counted from `first`), a tile's window being the n x n pixels from (top, left) + its
// position * m, zeros outside the plane. Floats with AVX read each tile's window a row at a
// time (winograd_window_rows.hpp); other types, and the first and last groups of the source
// (whose rows may reach past its ends), pixel by pixel.
template <int n, int m, int alpha, class T, class Transform>
void transform_windows(const T* source, std::int64_t channels, std::int64_t height, std::int64_t width,
                       std::int64_t top, std::int64_t left, const TilePlan& plan, std::int64_t first,
                       std::int64_t group_begin, std::int64_t group_end, T* out, const TileLayout& layout,
                       Transform transform_2d) {
  const std::int64_t plane = height * width;
  Lanes<T> window[n][n], transformed[alpha][alpha];
  Lanes<T> chunk[2][alpha * alpha][lanes];  // channel-panel layout: eight channels' values, then transposed
  const auto store = [&](std::int64_t c, std::int64_t group, int k) {
    transform_2d(window, transformed);
    if (layout.lane_stride == 1) {
      T* at = out + layout.offset(c, 0, group);
      for (int i = 0; i < alpha; ++i)
        for (int j = 0; j < alpha; ++j)
          std::memcpy(at + (i * alpha + j) * layout.xi_stride, &transformed[i][j].v, sizeof(transformed[i][j].v));
      return;
    }
    const int slot = static_cast<int>(c % lanes);
    for (int i = 0; i < alpha; ++i)
      for (int j = 0; j < alpha; ++j) chunk[k][i * alpha + j][slot] = transformed[i][j];
    if (slot != lanes - 1 && c != channels - 1) return;
    for (int s = slot + 1; s < lanes; ++s)  // past the last channel: zeros
      for (auto& element : chunk[k]) element[s] = Lanes<T>{};
    T* at = out + layout.offset(c - slot, 0, group);
    for (int xi = 0; xi < alpha * alpha; ++xi)
      store_transposed(chunk[k][xi], at + xi * layout.xi_stride, layout.lane_stride);
  };
  // Two groups at a time, channel by channel: their values share the cache lines of `out`
  // (16 tiles per line in the rows and panel layouts), which are then written in one go.
  for (std::int64_t group = group_begin; group < group_end; group += 2) {
    const int pair = group + 1 < group_end ? 2 : 1;
    bool by_rows[2] = {false, false};
#ifdef TINYNET_WINOGRAD_WINDOW_ROWS
    WindowRows<n, m> rows[2];
    if constexpr (std::is_same_v<T, float>)
      for (int k = 0; k < pair; ++k)
        by_rows[k] = plan_window_rows(plan, first + (group + k) * lanes, top, left, height, width, channels, rows[k]);
#endif
    std::int64_t where[2][n][n][lanes];
    for (int k = 0; k < pair; ++k)
      if (!by_rows[k])
        locate_window(plan, first + (group + k) * lanes, m, top, left, height, width, channels * plane, where[k]);
    for (std::int64_t c = 0; c < channels; ++c) {
      const T* source_c = source + c * plane;
      for (int k = 0; k < pair; ++k) {
#ifdef TINYNET_WINOGRAD_WINDOW_ROWS
        if constexpr (std::is_same_v<T, float>)
          if (by_rows[k]) {
            load_windows(source_c, rows[k], window);
            store(c, group + k, k);
            continue;
          }
#endif
        for (int i = 0; i < n; ++i)
          for (int j = 0; j < n; ++j)
            for (int l = 0; l < lanes; ++l) {  // load unconditionally (from source_c[0] outside), then select
              const std::int64_t at = where[k][i][j][l];
              const T value = source_c[at < 0 ? 0 : at];
              window[i][j].v[l] = at < 0 ? T(0) : value;
            }
        store(c, group + k, k);
      }
    }
  }
}

// ensures: V at layout (c, xi, t) = (B^T d B)[xi] for channel c of the tiles of groups
// [group_begin, group_end) of the block starting at tile `first` (t counted from `first`).
template <class F, class T>
void transform_input(const T* x, const ConvGeometry& g, const TilePlan& plan, std::int64_t first,
                     std::int64_t group_begin, std::int64_t group_end, T* V, const TileLayout& layout) {
  transform_windows<F::alpha, F::m, F::alpha>(x, g.channels, g.in_h, g.in_w, -g.pad_top, -g.pad_left, plan, first,
                                              group_begin, group_end, V, layout,
                                              [](const auto& d, auto& v) { winograd_input_2d<F>(d, v); });
}

// How a block's V and M are laid out: V in the panel layout where the register kernel applies
// (floats), otherwise in rows; M in rows (ld apart) for the output transform.
template <class T>
struct BlockBuffers {
  static constexpr bool panels =
#ifdef TINYNET_REGISTER_KERNEL
      std::is_same_v<T, float>;
#else
      false;
#endif
  std::int64_t alpha2, C, OC, ld, ld_v;
  BlockBuffers(std::int64_t alpha2_, std::int64_t C_, std::int64_t OC_, std::int64_t ld_)
      : alpha2(alpha2_),
        C(C_),
        OC(OC_),
        ld(ld_),
        ld_v(panels ? (ld_ + panel_tiles - 1) / panel_tiles * panel_tiles : ld_) {}
  std::int64_t size() const { return alpha2 * (C * ld_v + OC * ld); }  // a multiple of 8: blocks stay 32-byte aligned
  TileLayout v_layout() const { return panels ? panel_layout(C, ld_v) : rows_layout(alpha2, ld); }
  T* M(T* V) const { return V + alpha2 * C * ld_v; }
  // ensures: M[xi] = U[xi] V[xi] for xi in [xi_begin, xi_end), over the first `cols` tiles.
  void multiply(const T* U, const T* V, T* M, std::int64_t cols, std::int64_t xi_begin, std::int64_t xi_end) const {
#ifdef TINYNET_REGISTER_KERNEL
    if constexpr (panels) return multiply_panels(U, V, M, OC, C, cols, ld_v, ld, alpha2, xi_begin, xi_end);
#endif
    multiply_rows(U, V, M, OC, C, cols, ld, alpha2, xi_begin, xi_end);
  }
};

// ensures: the output tiles of groups [group_begin, group_end) of the block starting at tile
// `first`, A^T M A from M[oc][xi][t] (rows ld apart), written to y
// through `transform` (the parts of tiles past the output's edge dropped); floats with AVX
// a tile row at a time (winograd_window_rows.hpp), a last partial group pixel by pixel.
template <class F, class T>
void transform_output(const T* M, std::int64_t ld, const ConvGeometry& g, const TilePlan& plan, std::int64_t first,
                      std::int64_t group_begin, std::int64_t group_end, T* y, const ConvOutputTransform<T>& transform) {
  constexpr int a = F::alpha, m = F::m;
  const std::int64_t OC = g.out_channels, plane = g.out_pixels();
  const auto output_tiles = [&](std::int64_t oc, std::int64_t group, Lanes<T>(&out)[m][m]) {
    const T* in = M + oc * a * a * ld + group * lanes;
    Lanes<T> v[a][a];
    for (int i = 0; i < a; ++i)
      for (int j = 0; j < a; ++j) std::memcpy(&v[i][j].v, in + (i * a + j) * ld, sizeof(v[i][j].v));
    winograd_output_2d<F>(v, out);
  };
  for (std::int64_t group = group_begin; group < group_end; group += 2) {  // two groups share M's lines
    const int pair = group + 1 < group_end ? 2 : 1;
    bool by_rows[2] = {false, false};
#ifdef TINYNET_WINOGRAD_WINDOW_ROWS
    TileRows<m> rows[2];
    if constexpr (std::is_same_v<T, float>)
      for (int k = 0; k < pair; ++k)
        by_rows[k] = plan_tile_rows(plan, first + (group + k) * lanes, g.out_h, g.out_w, OC, rows[k]);
#endif
    std::int64_t where[2][m][m][lanes];
    for (int k = 0; k < pair; ++k)
      if (!by_rows[k]) locate_window(plan, first + (group + k) * lanes, m, 0, 0, g.out_h, g.out_w, OC * plane, where[k]);
    for (std::int64_t oc = 0; oc < OC; ++oc) {
      const T scale = transform.scale_of(oc), shift = transform.shift_of(oc);
      T* y_oc = y + oc * plane;
      for (int k = 0; k < pair; ++k) {
        Lanes<T> out[m][m];
        output_tiles(oc, group + k, out);
#ifdef TINYNET_WINOGRAD_WINDOW_ROWS
        if constexpr (std::is_same_v<T, float>)
          if (by_rows[k]) {
            store_tiles<m>(out, scale, shift, transform.relu, rows[k], y_oc);
            continue;
          }
#endif
        for (int i = 0; i < m; ++i)
          for (int j = 0; j < m; ++j)
            for (int l = 0; l < lanes; ++l) {
              if (where[k][i][j][l] < 0) continue;
              const T value = out[i][j].v[l] * scale + shift;
              y_oc[where[k][i][j][l]] = transform.relu ? std::max(value, T(0)) : value;
            }
      }
    }
  }
}

// requires: x [batch, C, H, W] and y [batch, OC, OH, OW] as g says; U from transform_kernel<F>.
// ensures: y = transform(conv3x3(x)).
template <class F, class T>
void convolve(const T* x, std::int64_t batch, const T* U, T* y, const ConvGeometry& g, Tensor<T>& buffers,
              const ConvOutputTransform<T>& transform) {
  constexpr std::int64_t a2 = F::alpha * F::alpha;
  const TilePlan plan(batch, g, F::m, F::alpha, sizeof(T));
  const std::int64_t ld = plan.block_columns();
  const BlockBuffers<T> layout(a2, g.channels, g.out_channels, ld);
  const TileLayout v_layout = layout.v_layout();
  const std::int64_t per_block = layout.size();
  if (plan.blocks_in_parallel) {
    buffers.resize(Shape{plan.threads, per_block});
#pragma omp parallel for num_threads(plan.threads) schedule(dynamic)  // a slowed thread takes fewer blocks
    for (std::int64_t b = 0; b < plan.blocks; ++b) {
#ifdef _OPENMP
      T* V = buffers.data() + omp_get_thread_num() * per_block;
#else
      T* V = buffers.data();
#endif
      T* M = layout.M(V);
      const std::int64_t first = b * ld, groups = plan.groups_in(b);
      transform_input<F>(x, g, plan, first, 0, groups, V, v_layout);
      layout.multiply(U, V, M, groups * lanes, 0, a2);
      transform_output<F>(M, ld, g, plan, first, 0, groups, y, transform);
    }
    return;
  }
  buffers.resize(Shape{per_block});
  T* V = buffers.data();
  T* M = layout.M(V);
  const std::int64_t groups = plan.groups;
#pragma omp parallel num_threads(plan.threads)
  {
#pragma omp for schedule(static)
    for (std::int64_t group = 0; group < groups; group += 2)
      transform_input<F>(x, g, plan, 0, group, std::min(group + 2, groups), V, v_layout);
#pragma omp for schedule(dynamic)
    for (std::int64_t xi = 0; xi < a2; ++xi) layout.multiply(U, V, M, groups * lanes, xi, xi + 1);
#pragma omp for schedule(static)
    for (std::int64_t group = 0; group < groups; group += 2)
      transform_output<F>(M, ld, g, plan, 0, group, std::min(group + 2, groups), y, transform);
  }
}

// ensures: the geometry of the backward-data pass as a forward convolution of dy.
inline ConvGeometry transposed_geometry(const ConvGeometry& g) {
  ConvGeometry t = g;
  t.channels = g.out_channels;
  t.in_h = g.out_h;
  t.in_w = g.out_w;
  t.out_channels = g.channels;
  t.out_h = g.in_h;
  t.out_w = g.in_w;
  t.pad_top = 2 - g.pad_top;
  t.pad_left = 2 - g.pad_left;
  t.pad_bottom = 2 - g.pad_bottom;
  t.pad_right = 2 - g.pad_right;
  return t;
}

template <class F, class T>
void forward(const Tensor<T>& x, const Tensor<T>& kernel, Tensor<T>& y, const ConvGeometry& g,
             WinogradWorkspace<T>& ws, const ConvOutputTransform<T>& transform) {
  ws.kernel.resize(Shape{F::alpha * F::alpha, g.out_channels, g.channels});
  transform_kernel<F>(kernel.data(), g.out_channels, g.channels, false, ws.kernel.data());
  convolve<F>(x.data(), x.dim(0), ws.kernel.data(), y.data(), g, ws.tiles, transform);
}

template <class F, class T>
void backward_data(const Tensor<T>& dy, const Tensor<T>& kernel, Tensor<T>& dx, const ConvGeometry& g,
                   WinogradWorkspace<T>& ws) {
  ws.kernel.resize(Shape{F::alpha * F::alpha, g.channels, g.out_channels});
  transform_kernel<F>(kernel.data(), g.out_channels, g.channels, true, ws.kernel.data());
  convolve<F>(dy.data(), dy.dim(0), ws.kernel.data(), dx.data(), transposed_geometry(g), ws.tiles,
              ConvOutputTransform<T>{});
}

}  // namespace winograd

// requires: run callable with WinogradF2<T>, WinogradF3<T> and WinogradF4<T>.
// ensures: run(WinogradF<m><T>{}) for output_tile m (2, 3 or 4); an Error naming `operation`
// when g is not 3x3 stride 1 or the tile is none of those.
template <class T, class Run>
void with_winograd_tile(const char* operation, const ConvGeometry& g, int output_tile, Run&& run) {
  check(winograd_applies(g), operation, ": needs a 3x3 kernel with stride 1");
  check(output_tile >= 2 && output_tile <= 4, operation, ": output tile ", output_tile, " is not 2, 3 or 4");
  if (output_tile == 2)
    run(WinogradF2<T>{});
  else if (output_tile == 3)
    run(WinogradF3<T>{});
  else
    run(WinogradF4<T>{});
}

// requires: output_tile m in 2, 3, 4 (F(m x m,3x3)); x [N,C,H,W], kernel [OC,C,3,3],
// y sized [N,OC,OH,OW]; g 3x3 stride 1.
// ensures: y = transform(conv(x, kernel)).
template <class T>
void winograd_conv2d_forward(const Tensor<T>& x, const Tensor<T>& kernel, Tensor<T>& y, const ConvGeometry& g,
                             int output_tile, WinogradWorkspace<T>& ws, const ConvOutputTransform<T>& transform) {
  with_winograd_tile<T>("winograd_conv2d_forward", g, output_tile, [&](auto tile) {
    winograd::forward<decltype(tile)>(x, kernel, y, g, ws, transform);
  });
}

// requires: as winograd_conv2d_forward; dy [N,OC,OH,OW], dx sized [N,C,H,W].
// ensures: dx = the gradient of conv(x, kernel) with respect to x, given dy (overwritten).
template <class T>
void winograd_conv2d_backward_data(const Tensor<T>& dy, const Tensor<T>& kernel, Tensor<T>& dx, const ConvGeometry& g,
                                   int output_tile, WinogradWorkspace<T>& ws) {
  with_winograd_tile<T>("winograd_conv2d_backward_data", g, output_tile, [&](auto tile) {
    winograd::backward_data<decltype(tile)>(dy, kernel, dx, g, ws);
  });
}

}  // namespace cpu
}  // namespace tinynet
