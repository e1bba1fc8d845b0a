// tinynet/backend/cpu/conv2d_whole_plane.hpp: a convolution over an input plane with fewer
// pixels than its kernel has taps, as one product per (output pixel, input pixel) pair.
//
// Layouts: x [N,C,H,W], kernel [OC,C,KH,KW] (OIHW), y [N,OC,OH,OW]. On such a plane most of
// the taps im2col multiplies fall on padding (a 3x3 'same' convolution on a 1x1 plane, as in
// ResNet50's last stage at 32x32 input, uses 1 of its 9; on a 2x2 plane 4 per output pixel).
// Each output pixel p and input pixel q that a tap t joins make a pair, and
//   Y_p += K_t X_q,   K_t [OC, C] = kernel[:, :, t],  X_q [C, N] = x[:, :, q],  Y_p [OC, N];
// the backward passes sum dX_q += K_t^T dY_p and dK_t += dY_p X_q^T over the same pairs. That
// is C*OC*N multiply-adds per pair (16 pairs on a 2x2 plane: as many as Winograd F(2x2,3x3)'s
// one tile) with no transforms: the taps are copied out of the kernel as [taps][OC][C] (or
// [taps][C][OC]: 9 values instead of the 16 of a transformed kernel), the pixels gathered into
// panels of 16 samples (the register kernel's layout, backend/cpu/register_kernel.hpp) and
// scattered back. Each pass runs the pairs tap by tap on six-row slivers of the output, so a
// sliver of K_t stays in the L1 cache across its pairs; the OpenMP threads share the slivers.
// Types other than floats with AVX2 + FMA multiply by a plain loop over the same layouts.
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

#ifdef __AVX2__
#include <immintrin.h>
#endif

#include "tinynet/backend/conv_geometry.hpp"
#include "tinynet/backend/cpu/conv_output_transform.hpp"
#include "tinynet/backend/cpu/register_kernel.hpp"
#include "tinynet/core/error.hpp"
#include "tinynet/core/tensor.hpp"

namespace tinynet {
namespace cpu {

// The largest tap copy the path builds (elements): 2x2 planes of 512 -> 512 channels need 2.4M.
constexpr std::int64_t whole_plane_max_elements = std::int64_t(1) << 24;

namespace detail {
// ensures: the tap index i*KW + j of the kernel that joins output pixel p to input pixel q,
// -1 where no tap does.
inline int plane_tap(const ConvGeometry& g, std::int64_t p, std::int64_t q) {
  const std::int64_t i = q / g.in_w - p / g.out_w * g.stride_h + g.pad_top;
  const std::int64_t j = q % g.in_w - p % g.out_w * g.stride_w + g.pad_left;
  return i >= 0 && i < g.kernel_h && j >= 0 && j < g.kernel_w ? static_cast<int>(i * g.kernel_w + j) : -1;
}

// The pairs of a geometry, tap by tap, and the taps that join any pair. plan() reuses the
// vectors' storage (no allocation when a geometry of no more pairs was planned before).
struct PlanePairs {
  struct Pair {
    std::int64_t slot, p, q;  // slot: the tap's index among `used`
    bool first_of_tap;
  };
  std::vector<Pair> pairs;
  std::vector<int> used;            // tap indices, ascending
  std::vector<std::int64_t> slot_of;  // per tap: its slot, -1 for a tap that joins no pair

  void plan(const ConvGeometry& g) {
    const int taps = g.kernel_h * g.kernel_w;
    pairs.clear();
    used.clear();
    slot_of.assign(static_cast<std::size_t>(taps), -1);
    for (int t = 0; t < taps; ++t) {
      const std::int64_t slot = static_cast<std::int64_t>(used.size());
      for (std::int64_t p = 0; p < g.out_pixels(); ++p)
        for (std::int64_t q = 0; q < g.in_pixels(); ++q)
          if (plane_tap(g, p, q) == t) pairs.push_back({slot, p, q, pairs.empty() || pairs.back().slot != slot});
      if (!pairs.empty() && pairs.back().slot == slot) {
        used.push_back(t);
        slot_of[static_cast<std::size_t>(t)] = slot;
      }
    }
  }
};

// ensures: the number of taps that join some output pixel to some input pixel.
inline std::int64_t used_taps(const ConvGeometry& g) {
  std::int64_t count = 0;
  for (int t = 0; t < g.kernel_h * g.kernel_w; ++t) {
    bool joins = false;
    for (std::int64_t p = 0; p < g.out_pixels() && !joins; ++p)
      for (std::int64_t q = 0; q < g.in_pixels() && !joins; ++q) joins = plane_tap(g, p, q) == t;
    count += joins;
  }
  return count;
}
}  // namespace detail

template <class T>
struct WholePlaneWorkspace {
  Tensor<T> taps;      // the kernel's taps [used taps][rows][depth], or their gradients
  Tensor<T> operands;  // the pixels of x or dy, gathered (panels of samples or of channels)
  Tensor<T> results;   // [pixels][rows][samples]: Y, dX, or dy's rows for the kernel gradient
  detail::PlanePairs pairs;
};

// ensures: whether the whole-plane path computes this convolution: an input plane with fewer
// pixels than the kernel has taps, and a tap copy of at most whole_plane_max_elements.
inline bool whole_plane_applies(const ConvGeometry& g) {
  return g.in_pixels() < std::int64_t(g.kernel_h) * g.kernel_w &&
         detail::used_taps(g) * g.channels * g.out_channels <= whole_plane_max_elements;
}

namespace detail {
constexpr std::int64_t panel = kernel::panel_width;  // samples (or channels) per panel

inline std::int64_t padded(std::int64_t n) { return (n + panel - 1) / panel * panel; }

inline void check_whole_plane(const char* operation, const ConvGeometry& g) {
  check(whole_plane_applies(g), operation, ": needs an input plane (", g.in_h, "x", g.in_w,
        ") with fewer pixels than the kernel (", g.kernel_h, "x", g.kernel_w, ") has taps and a tap copy of at most ",
        whole_plane_max_elements, " elements");
}

// ensures: to[k] = from[k * stride] for k < count (count <= 16), and to[k] = 0 for k in
// [count, fill) (fill <= 16): gather instructions for floats with AVX2 (a loop of scalar
// copies ran at 1.5 cycles a value).
template <class T>
void copy_strided(const T* from, std::int64_t stride, std::int64_t count, T* to, std::int64_t fill = 0) {
#ifdef __AVX2__
  if constexpr (std::is_same_v<T, float>)
    if (stride * panel <= std::int64_t(1) << 30) {
      const int step = static_cast<int>(stride);
#ifdef __AVX512F__
      const __m512i index = _mm512_mullo_epi32(_mm512_set1_epi32(step),
                                               _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
      const __mmask16 live = count >= panel ? __mmask16(0xFFFF) : __mmask16((1u << count) - 1u);
      const __mmask16 written = fill > count ? __mmask16((1u << fill) - 1u) | live : live;
      _mm512_mask_storeu_ps(to, written, _mm512_mask_i32gather_ps(_mm512_setzero_ps(), live, index, from, 4));
      return;
#else
      if (count == panel) {
        const __m256i index = _mm256_mullo_epi32(_mm256_set1_epi32(step), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        _mm256_storeu_ps(to, _mm256_i32gather_ps(from, index, 4));
        _mm256_storeu_ps(to + 8, _mm256_i32gather_ps(from + 8 * stride, index, 4));
        return;
      }
#endif
    }
#endif
  for (std::int64_t k = 0; k < count; ++k) to[k] = from[k * stride];
  for (std::int64_t k = count; k < fill; ++k) to[k] = T(0);
}

// ensures: out[s][r][k] = kernel[oc][c][used[s]] with (r, k) = (oc, c), or (c, oc) when
// transposed; blocks of 16 k on the OpenMP threads, ordered so that neighbouring tasks read
// neighbouring kernel values.
template <class T>
void copy_taps(const T* kernel, std::int64_t OC, std::int64_t C, int taps, const std::vector<int>& used,
               bool transposed, T* out) {
  const std::int64_t R = transposed ? C : OC, K = transposed ? OC : C, blocks = (K + panel - 1) / panel;
  const std::int64_t slots = static_cast<std::int64_t>(used.size());
  // kernel[oc][c][t] for (r, k): r * r_step + k * k_step + t
  const std::int64_t r_step = transposed ? taps : C * taps, k_step = transposed ? C * taps : taps;
#pragma omp parallel for schedule(static)
  for (std::int64_t task = 0; task < R * blocks; ++task) {
    const std::int64_t r = transposed ? task % R : task / blocks, block = transposed ? task / R : task % blocks;
    const std::int64_t k = block * panel, count = std::min(K - k, panel);
    for (std::int64_t s = 0; s < slots; ++s)
      copy_strided(kernel + r * r_step + k * k_step + used[static_cast<std::size_t>(s)], k_step, count,
                   out + (s * R + r) * K + k);
  }
}

// ensures: out[j][n / 16][c][n % 16] = source[n][c][j] for the `pixels` pixels j: each
// pixel's [channels, N] matrix in panels of 16 samples, the samples past N zero.
template <class T>
void gather_sample_panels(const T* source, std::int64_t N, std::int64_t channels, std::int64_t pixels, T* out) {
  const std::int64_t ldn = padded(N), stride = channels * pixels;
#pragma omp parallel for schedule(static)
  for (std::int64_t c = 0; c < channels; ++c)
    for (std::int64_t j = 0; j < pixels; ++j)
      for (std::int64_t n = 0; n < ldn; n += panel)
        copy_strided(source + (n * channels + c) * pixels + j, stride, std::min(panel, N - n),
                     out + ((j * (ldn / panel) + n / panel) * channels + c) * panel, panel);
}

// ensures: out[n][c][j] = transform_c(results[j][c][n]) for n < N (results' rows ldn apart):
// per channel, so that its `pixels` rows are read along while its runs of out are written.
template <class T>
void scatter_results(const T* results, std::int64_t ldn, std::int64_t N, std::int64_t channels, std::int64_t pixels,
                     const ConvOutputTransform<T>& transform, T* out) {
#pragma omp parallel for schedule(static)
  for (std::int64_t c = 0; c < channels; ++c)
    for (std::int64_t n = 0; n < N; ++n) {
      T* to = out + (n * channels + c) * pixels;
      for (std::int64_t j = 0; j < pixels; ++j) to[j] = results[(j * channels + c) * ldn + n];
      transform.apply(c, to, to, pixels);
    }
}

// ensures: C[r][0, columns) = (accumulate ? C[r][.] : 0) + sum over k < depth of A[r * lda + k]
// * B(k, .) for r < rows, B's columns in panels [depth][16] panel_stride apart.
template <bool accumulate, class T>
void sliver_product(int rows, const T* A, std::int64_t lda, const T* panels, std::int64_t panel_stride,
                    std::int64_t depth, T* C, std::int64_t ldc, std::int64_t columns) {
  for (std::int64_t j = 0; j < columns; j += kernel::max_columns) {
    const int width = static_cast<int>(std::min<std::int64_t>(kernel::max_columns, columns - j));
    const T* b = panels + j / panel * panel_stride;
#ifdef TINYNET_REGISTER_KERNEL
    if constexpr (std::is_same_v<T, float>) {
      kernel::panel_product<accumulate>(rows, A, lda, 1, b, panel_stride, depth, C + j, ldc, width);
      continue;
    }
#endif
    for (int r = 0; r < rows; ++r)
      for (int col = 0; col < width; ++col) {
        const T* column = b + col / panel * panel_stride + col % panel;
        T sum = accumulate ? C[r * ldc + j + col] : T(0);
        for (std::int64_t k = 0; k < depth; ++k) sum += A[r * lda + k] * column[k * panel];
        C[r * ldc + j + col] = sum;
      }
  }
}

// requires: product(pair, first_row, rows) computes the pair's product for output rows
// [first_row, first_row + rows).
// ensures: every pair's product on every six-row sliver of the R output rows, pairs in tap
// order within a sliver; the slivers on the OpenMP threads.
template <class Product>
void for_each_sliver_pair(const PlanePairs& plan, std::int64_t R, Product&& product) {
  const std::int64_t slivers = (R + kernel::max_rows - 1) / kernel::max_rows;
#pragma omp parallel for schedule(static)
  for (std::int64_t s = 0; s < slivers; ++s) {
    const std::int64_t first = s * kernel::max_rows;
    const int rows = static_cast<int>(std::min<std::int64_t>(kernel::max_rows, R - first));
    for (std::size_t i = 0; i < plan.pairs.size(); ++i) product(i, first, rows);
  }
}

// requires: whole_plane_applies(g); source x (forward) or dy (input gradient, transposed).
// ensures: out = transform(the sum of the pairs' products) for every pixel of the pass's
// output: forward, y from x (rows OC, depth C, Y_p += K_t X_q); input gradient, dx from dy
// (rows C, depth OC, dX_q += K_t^T dY_p).
template <class T>
void multiply_pairs(const T* source, std::int64_t N, const T* kernel, const ConvGeometry& g, bool transposed,
                    WholePlaneWorkspace<T>& ws, const ConvOutputTransform<T>& transform, T* out) {
  const std::int64_t R = transposed ? g.channels : g.out_channels, K = transposed ? g.out_channels : g.channels;
  const std::int64_t source_pixels = transposed ? g.out_pixels() : g.in_pixels();
  const std::int64_t out_pixels = transposed ? g.in_pixels() : g.out_pixels(), ldn = padded(N);
  PlanePairs& plan = ws.pairs;
  plan.plan(g);
  ws.taps.resize(Shape{static_cast<std::int64_t>(plan.used.size()), R, K});
  copy_taps(kernel, g.out_channels, g.channels, g.kernel_h * g.kernel_w, plan.used, transposed, ws.taps.data());
  ws.operands.resize(Shape{source_pixels, K, ldn});
  gather_sample_panels(source, N, K, source_pixels, ws.operands.data());
  ws.results.resize(Shape{out_pixels, R, ldn});
  ws.results.zero();  // a pixel no tap reaches keeps 0 (then the transform)
  const T *taps = ws.taps.data(), *operands = ws.operands.data();
  T* results = ws.results.data();
  for_each_sliver_pair(plan, R, [&](std::size_t i, std::int64_t r, int rows) {
    const PlanePairs::Pair& pair = plan.pairs[i];
    const std::int64_t from = transposed ? pair.p : pair.q, to = transposed ? pair.q : pair.p;
    sliver_product<true>(rows, taps + (pair.slot * R + r) * K, K, operands + from * K * ldn, K * panel, K,
                         results + (to * R + r) * ldn, ldn, N);
  });
  scatter_results(results, ldn, N, R, out_pixels, transform, out);
}
}  // namespace detail

// requires: whole_plane_applies(g); x [N,C,H,W], kernel [OC,C,KH,KW], y sized [N,OC,OH,OW].
// ensures: y = transform(conv(x, kernel)), per output channel.
template <class T>
void whole_plane_conv2d_forward(const Tensor<T>& x, const Tensor<T>& kernel, Tensor<T>& y, const ConvGeometry& g,
                                WholePlaneWorkspace<T>& ws, const ConvOutputTransform<T>& transform) {
  detail::check_whole_plane("whole_plane_conv2d_forward", g);
  detail::multiply_pairs(x.data(), x.dim(0), kernel.data(), g, false, ws, transform, y.data());
}

// requires: whole_plane_applies(g); dy [N,OC,OH,OW], kernel [OC,C,KH,KW], dx sized [N,C,H,W].
// ensures: dx = the gradient of the convolution's input (overwritten).
template <class T>
void whole_plane_conv2d_backward_data(const Tensor<T>& dy, const Tensor<T>& kernel, Tensor<T>& dx,
                                      const ConvGeometry& g, WholePlaneWorkspace<T>& ws) {
  detail::check_whole_plane("whole_plane_conv2d_backward_data", g);
  detail::multiply_pairs(dy.data(), dy.dim(0), kernel.data(), g, true, ws, ConvOutputTransform<T>{}, dx.data());
}

// requires: whole_plane_applies(g); x [N,C,H,W], dy [N,OC,OH,OW], dkernel sized [OC,C,KH,KW].
// ensures: dkernel = the gradient of the kernel (overwritten); taps that join no pair get 0.
template <class T>
void whole_plane_conv2d_backward_kernel(const Tensor<T>& x, const Tensor<T>& dy, Tensor<T>& dkernel,
                                        const ConvGeometry& g, WholePlaneWorkspace<T>& ws) {
  detail::check_whole_plane("whole_plane_conv2d_backward_kernel", g);
  constexpr std::int64_t panel = detail::panel;
  const std::int64_t N = x.dim(0), C = g.channels, OC = g.out_channels, Q = g.in_pixels(), P = g.out_pixels();
  const std::int64_t channel_panels = (C + panel - 1) / panel;
  detail::PlanePairs& plan = ws.pairs;
  plan.plan(g);
  // dY_p rows [P][OC][N]; X_q^T in panels of 16 channels [Q][C / 16][N][16] (spare channels 0)
  ws.results.resize(Shape{P, OC, N});
  T* dY = ws.results.data();
  const T* dy_data = dy.data();
#pragma omp parallel for schedule(static)
  for (std::int64_t oc = 0; oc < OC; ++oc)
    for (std::int64_t p = 0; p < P; ++p)
      for (std::int64_t n = 0; n < N; n += panel)
        detail::copy_strided(dy_data + (n * OC + oc) * P + p, OC * P, std::min(panel, N - n),
                             dY + (p * OC + oc) * N + n);
  ws.operands.resize(Shape{Q, channel_panels, N, panel});
  T* X = ws.operands.data();
  const T* x_data = x.data();
#pragma omp parallel for schedule(static)
  for (std::int64_t cp = 0; cp < channel_panels; ++cp)
    for (std::int64_t q = 0; q < Q; ++q)
      for (std::int64_t n = 0; n < N; ++n)
        detail::copy_strided(x_data + (n * C + cp * panel) * Q + q, Q, std::min(panel, C - cp * panel),
                             X + ((q * channel_panels + cp) * N + n) * panel, panel);
  const std::int64_t slots = static_cast<std::int64_t>(plan.used.size());
  ws.taps.resize(Shape{slots, OC, C});
  T* dK = ws.taps.data();
  detail::for_each_sliver_pair(plan, OC, [&](std::size_t i, std::int64_t oc, int rows) {
    const auto& pair = plan.pairs[i];
    const T* a = dY + (pair.p * OC + oc) * N;
    const T* b = X + pair.q * channel_panels * N * panel;
    T* out = dK + (pair.slot * OC + oc) * C;
    if (pair.first_of_tap)
      detail::sliver_product<false>(rows, a, N, b, N * panel, N, out, C, C);
    else
      detail::sliver_product<true>(rows, a, N, b, N * panel, N, out, C, C);
  });
  // back into the kernel's layout, 0 for taps without pairs
  const std::int64_t taps = static_cast<std::int64_t>(plan.slot_of.size());
  const std::int64_t* slot_of = plan.slot_of.data();
  T* dk = dkernel.data();
#pragma omp parallel for schedule(static)
  for (std::int64_t oc = 0; oc < OC; ++oc)
    for (std::int64_t t = 0; t < taps; ++t) {
      T* to = dk + oc * C * taps + t;
      if (slot_of[t] < 0) {
        for (std::int64_t c = 0; c < C; ++c) to[c * taps] = T(0);
        continue;
      }
      const T* from = dK + (slot_of[t] * OC + oc) * C;
      for (std::int64_t c = 0; c < C; ++c) to[c * taps] = from[c];
    }
}

}  // namespace cpu
}  // namespace tinynet
