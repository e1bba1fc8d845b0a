// tinynet/backend/cpu/winograd_window_rows.hpp: reading the input windows and writing the
// output tiles of eight Winograd tiles a row at a time (AVX, float).
//
// The eight tiles of a SIMD group read their n x n windows, lane l of a window element from
// tile l's window: a gather. Instead, each window row of each tile is read as one or two
// unaligned runs of four floats from where that row starts, and a 4 x 4 transpose of four
// tiles' runs (two tiles per 256-bit register) gives four elements of that row for all eight
// tiles: 8 ceil(n / 4) loads per window row, instead of 8 n scalar loads. Any eight tiles
// qualify (one tile row or several, one sample or two): what a tile reads past its plane's
// edge comes from the neighbouring memory and is then cleared with a mask; rows outside the
// plane are read from the nearest row inside. Output tiles go back the same way: the
// transpose turns each m-pixel row of the eight tiles into eight runs of m floats, each stored
// where that tile's row lies (masked where the tile reaches past the output's right edge,
// skipped below its bottom edge).
#pragma once

#include <algorithm>
#include <cstdint>

#include "tinynet/backend/cpu/winograd_transforms.hpp"

#if defined(__GNUC__) && defined(__AVX__)
#include <immintrin.h>
#define TINYNET_WINOGRAD_WINDOW_ROWS 1
#endif

namespace tinynet {
namespace cpu {
namespace winograd {

#ifdef TINYNET_WINOGRAD_WINDOW_ROWS

// Where tile `tile` of the plan (numbered sample by sample, row by row) lies: its sample and
// its top-left pixel (tile position * m).
struct TileOrigin {
  std::int64_t sample = 0, row = 0, column = 0;
};

template <class Plan>
TileOrigin tile_origin(const Plan& plan, std::int64_t tile, int m) {
  const std::int64_t r = tile % plan.per_sample;
  return {tile / plan.per_sample, r / plan.tiles_w * m, r % plan.tiles_w * m};
}

// The reads of one group of eight tiles' n x n windows, a row of each tile at a time.
template <int n, int m>
struct WindowRows {
  static_assert(m >= 2 && m <= 4 && (n == m || n == m + 2), "unsupported window");
  static constexpr int span = (n + 3) / 4 * 4;  // floats read per window row of a tile
  std::int64_t offset[n][8];                    // window row i of tile l starts at channel start + offset[i][l]
  alignas(32) std::int32_t mask[n][n][8];       // -1 where pixel (i, j) of tile l lies inside the plane
  bool padded = false;                          // whether any mask lane is 0
};

// requires: the group's tiles numbered as plan says (per_sample tiles per sample, tiles_w per
// row); the source [samples, channels, height, width] with samples = tiles / per_sample.
// ensures: whether tiles first .. first + 7 exist and every window row they read (`span`
// floats from `offset`, in every channel) lies inside the source; if so, `rows` describes
// them: windows from (top, left) + tile position * m.
template <int n, int m, class Plan>
bool plan_window_rows(const Plan& plan, std::int64_t first, std::int64_t top, std::int64_t left, std::int64_t height,
                      std::int64_t width, std::int64_t channels, WindowRows<n, m>& rows) {
  if (first + 8 > plan.tiles) return false;
  const std::int64_t plane = height * width, sample_stride = channels * plane;
  const std::int64_t end = plan.tiles / plan.per_sample * sample_stride;
  rows.padded = false;
  for (int l = 0; l < 8; ++l) {
    const TileOrigin origin = tile_origin(plan, first + l, m);
    const std::int64_t h0 = top + origin.row, w0 = left + origin.column;
    for (int i = 0; i < n; ++i) {
      const std::int64_t h = h0 + i;
      const bool row_inside = h >= 0 && h < height;
      const std::int64_t at = origin.sample * sample_stride + std::clamp<std::int64_t>(h, 0, height - 1) * width + w0;
      if (at < 0 || at + (channels - 1) * plane + WindowRows<n, m>::span > end) return false;
      rows.offset[i][l] = at;
      for (int j = 0; j < n; ++j) {
        const std::int64_t w = w0 + j;
        const bool inside = row_inside && w >= 0 && w < width;
        rows.mask[i][j][l] = inside ? -1 : 0;
        rows.padded |= !inside;
      }
    }
  }
  return true;
}

// ensures: r[0 .. 3] = the 4 x 4 transposes of r's low and high halves (lane k of the result
// j = lane j of the input k, within each half).
inline void transpose_4x4_halves(__m256 (&r)[4]) {
  const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  r[0] = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
  r[1] = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
  r[2] = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
  r[3] = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
}

// ensures: d[j] lane l = channel[starts[l] + j] for j in [0, n): one window row of the eight
// tiles (reads span floats from each start).
template <int n>
inline void load_window_row(const float* channel, const std::int64_t (&starts)[8], __m256 (&d)[n]) {
  for (int j = 0; j < n; j += 4) {
    __m256 r[4];
    for (int k = 0; k < 4; ++k) r[k] = _mm256_loadu2_m128(channel + starts[4 + k] + j, channel + starts[k] + j);
    transpose_4x4_halves(r);
    for (int k = 0; k < 4 && j + k < n; ++k) d[j + k] = r[k];
  }
}

// requires: rows from plan_window_rows for this group; channel the source's channel start.
// ensures: window[i][j] lane l = pixel (i, j) of tile l's window of this channel (0 outside).
template <int n, int m>
inline void load_windows(const float* channel, const WindowRows<n, m>& rows, Lanes<float> (&window)[n][n]) {
  for (int i = 0; i < n; ++i) {
    __m256 d[n];
    load_window_row<n>(channel, rows.offset[i], d);
    for (int j = 0; j < n; ++j) {
      if (rows.padded)
        d[j] = _mm256_and_ps(d[j], _mm256_castsi256_ps(
                                       _mm256_load_si256(reinterpret_cast<const __m256i*>(rows.mask[i][j]))));
      window[i][j].v = d[j];
    }
  }
}

// The output rows of one group of eight m x m tiles.
template <int m>
struct TileRows {
  static_assert(m >= 2 && m <= 4, "unsupported tile");
  std::int64_t offset[m][8];  // row i of tile l starts at channel start + offset[i][l]; -1 below the edge
  int columns[8];             // floats of each row of tile l inside the output (m when whole)
};

// ensures: whether tiles first .. first + 7 exist; if so, `rows` describes where their rows
// go in an output [samples, channels, height, width].
template <int m, class Plan>
bool plan_tile_rows(const Plan& plan, std::int64_t first, std::int64_t height, std::int64_t width,
                    std::int64_t channels, TileRows<m>& rows) {
  if (first + 8 > plan.tiles) return false;
  const std::int64_t sample_stride = channels * height * width;
  for (int l = 0; l < 8; ++l) {
    const TileOrigin origin = tile_origin(plan, first + l, m);
    rows.columns[l] = static_cast<int>(std::min<std::int64_t>(m, width - origin.column));
    for (int i = 0; i < m; ++i)
      rows.offset[i][l] =
          origin.row + i < height ? origin.sample * sample_stride + (origin.row + i) * width + origin.column : -1;
  }
  return true;
}

// ensures: the first `count` (1 to 4) floats of `four` stored at destination.
inline void store_first(float* destination, __m128 four, int count) {
  if (count == 4) return _mm_storeu_ps(destination, four);
  const __m128i mask = _mm_setr_epi32(-1, count > 1 ? -1 : 0, count > 2 ? -1 : 0, 0);
  _mm_maskstore_ps(destination, mask, four);
}

// requires: rows from plan_tile_rows for this group; channel the output's channel start.
// ensures: pixel (i, j) of tile l = max(scale * tile[i][j] lane l + shift, 0 if relu) written.
template <int m>
inline void store_tiles(const Lanes<float> (&tile)[m][m], float scale, float shift, bool relu,
                        const TileRows<m>& rows, float* channel) {
  const __m256 s = _mm256_set1_ps(scale), b = _mm256_set1_ps(shift), zero = _mm256_setzero_ps();
  for (int i = 0; i < m; ++i) {
    __m256 o[4];
    for (int j = 0; j < m; ++j) {
      o[j] = _mm256_add_ps(_mm256_mul_ps(tile[i][j].v, s), b);
      if (relu) o[j] = _mm256_max_ps(o[j], zero);
    }
    for (int j = m; j < 4; ++j) o[j] = zero;
    transpose_4x4_halves(o);  // o[k] = row i of tile k (low half) and of tile 4 + k (high half)
    for (int l = 0; l < 8; ++l) {
      if (rows.offset[i][l] < 0) continue;
      const __m128 four = l < 4 ? _mm256_castps256_ps128(o[l]) : _mm256_extractf128_ps(o[l - 4], 1);
      store_first(channel + rows.offset[i][l], four, rows.columns[l]);
    }
  }
}

#endif  // TINYNET_WINOGRAD_WINDOW_ROWS

}  // namespace winograd
}  // namespace cpu
}  // namespace tinynet
