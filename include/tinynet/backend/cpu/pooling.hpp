// tinynet/backend/cpu/pooling.hpp: max pooling and global average pooling kernels.
//
// Max pooling: x [N,C,H,W] -> y [N,C,OH,OW] over windows described by a ConvGeometry
// (channels == out_channels). Padded cells never win: each window takes the maximum of
// its in-image cells (with 'valid' or 'same' padding every window holds at least one).
// argmax [N,C,OH,OW] records, per output, the winning cell as h*W+w within its plane
// (the first maximum on ties); backward routes each gradient to that cell.
// Global average pooling: x [N,C,H,W] -> y [N,C], the mean of each plane.
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>

#if defined(__GNUC__) && defined(__AVX2__)
#include <immintrin.h>
#endif

#include "tinynet/backend/conv_geometry.hpp"
#include "tinynet/core/tensor.hpp"

namespace tinynet {
namespace cpu {

namespace detail {
// requires: plane the input plane p's values, g's windows.
// ensures: output plane p of max_pool2d_forward (out, idx at its first output) for any window.
template <class T>
void max_pool_plane(const T* plane, const ConvGeometry& g, T* out, std::int32_t* idx) {
  for (std::int64_t oh = 0; oh < g.out_h; ++oh) {
    const std::int64_t h0 = oh * g.stride_h - g.pad_top;
    const std::int64_t h_lo = std::max<std::int64_t>(h0, 0), h_hi = std::min<std::int64_t>(h0 + g.kernel_h, g.in_h);
    for (std::int64_t ow = 0; ow < g.out_w; ++ow) {
      const std::int64_t w0 = ow * g.stride_w - g.pad_left;
      const std::int64_t w_lo = std::max<std::int64_t>(w0, 0), w_hi = std::min<std::int64_t>(w0 + g.kernel_w, g.in_w);
      std::int64_t best = h_lo * g.in_w + w_lo;
      for (std::int64_t h = h_lo; h < h_hi; ++h)
        for (std::int64_t w = w_lo; w < w_hi; ++w)
          if (plane[h * g.in_w + w] > plane[best]) best = h * g.in_w + w;
      out[oh * g.out_w + ow] = plane[best];
      idx[oh * g.out_w + ow] = static_cast<std::int32_t>(best);
    }
  }
}

// The 2x2 stride-2 windows without padding (Keras' default pool): every window whole.
inline bool is_plain_2x2_pool(const ConvGeometry& g) {
  return g.kernel_h == 2 && g.kernel_w == 2 && g.stride_h == 2 && g.stride_w == 2 && g.pad_top == 0 &&
         g.pad_left == 0 && 2 * g.out_h <= g.in_h && 2 * g.out_w <= g.in_w;
}

#if defined(__GNUC__) && defined(__AVX2__)
// requires: is_plain_2x2_pool(g). ensures: max_pool_plane_2x2 for floats, eight windows at
// a time: the two rows' even and odd cells split by shuffles, compared in scan order by
// selects; a row's last step reads whole registers where the plane goes on past them (masked
// loads at its end) and stores its windows through the stack.
inline void max_pool_plane_2x2_avx2(const float* plane, const ConvGeometry& g, float* out, std::int32_t* idx) {
  const std::int64_t W = g.in_w;
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), even = _mm256_add_epi32(lane, lane);
  const __m256i one = _mm256_set1_epi32(1), down = _mm256_set1_epi32(static_cast<std::int32_t>(W));
  const float* plane_end = plane + g.in_h * W;
  const auto load_pairs = [&](const float* at, int count, __m256& left, __m256& right) {
    __m256 a, b;  // cells 2 * window + 0 / 1 of the count windows from `at`
    if (at + 16 <= plane_end) {  // what lies past the row's windows is read and left unused
      a = _mm256_loadu_ps(at);
      b = _mm256_loadu_ps(at + 8);
    } else {
      a = _mm256_maskload_ps(at, _mm256_cmpgt_epi32(_mm256_set1_epi32(2 * count), lane));
      b = _mm256_maskload_ps(at + 8, _mm256_cmpgt_epi32(_mm256_set1_epi32(2 * count - 8), lane));
    }
    const auto in_order = [](__m256 v) {  // lanes 0 1 4 5 2 3 6 7 -> 0 .. 7
      return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(v), _MM_SHUFFLE(3, 1, 2, 0)));
    };
    left = in_order(_mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0)));
    right = in_order(_mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1)));
  };
  for (std::int64_t oh = 0; oh < g.out_h; ++oh) {
    const float* top = plane + 2 * oh * W;
    for (std::int64_t ow = 0; ow < g.out_w; ow += 8) {
      const int count = static_cast<int>(std::min<std::int64_t>(8, g.out_w - ow));
      __m256 best, right, below, diagonal;
      load_pairs(top + 2 * ow, count, best, right);
      load_pairs(top + W + 2 * ow, count, below, diagonal);
      const __m256i at = _mm256_add_epi32(_mm256_set1_epi32(static_cast<std::int32_t>(2 * oh * W + 2 * ow)), even);
      __m256i where = at;
      const auto take = [&](__m256 cell, __m256i cell_at) {  // cell > best: the cell wins
        const __m256 wins = _mm256_cmp_ps(cell, best, _CMP_GT_OQ);
        best = _mm256_blendv_ps(best, cell, wins);
        where = _mm256_castps_si256(
            _mm256_blendv_ps(_mm256_castsi256_ps(where), _mm256_castsi256_ps(cell_at), wins));
      };
      take(right, _mm256_add_epi32(at, one));
      take(below, _mm256_add_epi32(at, down));
      take(diagonal, _mm256_add_epi32(_mm256_add_epi32(at, down), one));
      float* to = out + oh * g.out_w + ow;
      std::int32_t* to_idx = idx + oh * g.out_w + ow;
      if (count == 8) {
        _mm256_storeu_ps(to, best);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(to_idx), where);
      } else {  // masked stores are slow: through the stack
        alignas(32) float best_part[8];
        alignas(32) std::int32_t where_part[8];
        _mm256_store_ps(best_part, best);
        _mm256_store_si256(reinterpret_cast<__m256i*>(where_part), where);
        std::copy(best_part, best_part + count, to);
        std::copy(where_part, where_part + count, to_idx);
      }
    }
  }
}
#endif

// requires: is_plain_2x2_pool(g). ensures: what max_pool_plane writes, the four cells of
// each window compared in its scan order with fixed bounds and selects (no branch per
// value); floats with AVX2 by max_pool_plane_2x2_avx2 when a row has 4 windows or more.
template <class T>
void max_pool_plane_2x2(const T* plane, const ConvGeometry& g, T* out, std::int32_t* idx) {
#if defined(__GNUC__) && defined(__AVX2__)
  if constexpr (std::is_same_v<T, float>)
    if (g.out_w >= 4) return max_pool_plane_2x2_avx2(plane, g, out, idx);  // narrower rows: the loop below
#endif
  const std::int64_t W = g.in_w;
  for (std::int64_t oh = 0; oh < g.out_h; ++oh) {
    const T* top = plane + 2 * oh * W;
    const T* bottom = top + W;
    T* row_out = out + oh * g.out_w;
    std::int32_t* row_idx = idx + oh * g.out_w;
    const auto first = static_cast<std::int32_t>(2 * oh * W);
    for (std::int64_t ow = 0; ow < g.out_w; ++ow) {
      const auto at = static_cast<std::int32_t>(first + 2 * ow);
      T best = top[2 * ow];
      std::int32_t where = at;
      const T right = top[2 * ow + 1], below = bottom[2 * ow], diagonal = bottom[2 * ow + 1];
      where = right > best ? at + 1 : where;
      best = right > best ? right : best;
      where = below > best ? at + static_cast<std::int32_t>(W) : where;
      best = below > best ? below : best;
      where = diagonal > best ? at + static_cast<std::int32_t>(W) + 1 : where;
      best = diagonal > best ? diagonal : best;
      row_out[ow] = best;
      row_idx[ow] = where;
    }
  }
}

}  // namespace detail

// requires: x [N,C,H,W] matching g; y and argmax sized [N,C,OH,OW].
// ensures: y = window maxima, argmax = their positions.
template <class T>
void max_pool2d_forward(const Tensor<T>& x, Tensor<T>& y, Tensor<std::int32_t>& argmax, const ConvGeometry& g) {
  const std::int64_t planes = x.dim(0) * g.channels;
  const bool plain_2x2 = detail::is_plain_2x2_pool(g);
#pragma omp parallel for schedule(static)
  for (std::int64_t p = 0; p < planes; ++p) {
    const T* plane = x.data() + p * g.in_pixels();
    T* out = y.data() + p * g.out_pixels();
    std::int32_t* idx = argmax.data() + p * g.out_pixels();
    if (plain_2x2)
      detail::max_pool_plane_2x2(plane, g, out, idx);
    else
      detail::max_pool_plane(plane, g, out, idx);
  }
}

// requires: argmax from max_pool2d_forward of this batch; dy [N,C,OH,OW]; dx sized [N,C,H,W].
// ensures: dx = sum of dy over the outputs each cell won (0 for cells that won nothing).
template <class T>
void max_pool2d_backward(const Tensor<T>& dy, const Tensor<std::int32_t>& argmax, Tensor<T>& dx,
                         const ConvGeometry& g) {
  const std::int64_t planes = dy.dim(0) * g.channels;
  const T* grad = dy.data();
  const std::int32_t* idx = argmax.data();
  T* out = dx.data();
#pragma omp parallel for schedule(static)
  for (std::int64_t p = 0; p < planes; ++p) {
    T* plane = out + p * g.in_pixels();
    std::fill(plane, plane + g.in_pixels(), T(0));
    for (std::int64_t o = p * g.out_pixels(); o < (p + 1) * g.out_pixels(); ++o) plane[idx[o]] += grad[o];
  }
}

// requires: x [N,C,H,W] with H*W >= 1, y sized [N,C]. ensures: y[n,c] = mean of plane (n,c).
template <class T>
void global_average_pool_forward(const Tensor<T>& x, Tensor<T>& y) {
  const std::int64_t planes = x.dim(0) * x.dim(1), pixels = x.dim(2) * x.dim(3);
  const T* in = x.data();
  T* out = y.data();
#pragma omp parallel for schedule(static)
  for (std::int64_t p = 0; p < planes; ++p) {
    double sum = 0;
    for (std::int64_t i = 0; i < pixels; ++i) sum += in[p * pixels + i];
    out[p] = static_cast<T>(sum / static_cast<double>(pixels));
  }
}

// requires: dy [N,C], dx sized [N,C,H,W]. ensures: dx[n,c,h,w] = dy[n,c] / (H*W).
template <class T>
void global_average_pool_backward(const Tensor<T>& dy, Tensor<T>& dx) {
  const std::int64_t planes = dx.dim(0) * dx.dim(1), pixels = dx.dim(2) * dx.dim(3);
  const T* grad = dy.data();
  T* out = dx.data();
#pragma omp parallel for schedule(static)
  for (std::int64_t p = 0; p < planes; ++p)
    std::fill(out + p * pixels, out + (p + 1) * pixels, static_cast<T>(grad[p] / static_cast<double>(pixels)));
}

}  // namespace cpu
}  // namespace tinynet
