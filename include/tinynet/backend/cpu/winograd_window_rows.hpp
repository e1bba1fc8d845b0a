// tinynet/backend/cpu/winograd_window_rows.hpp: reading the input windows and writing the
// output tiles of eight Winograd tiles as whole rows (AVX, float).
//
// The eight tiles of a SIMD group read their n x n windows m pixels apart, so lane l of a
// window element sits m floats after lane l - 1: a strided gather. When the group is two runs
// of four consecutive tiles, each run inside one tile row, every window row of a run is one
// contiguous stretch of `span` floats: a few unaligned loads and shuffles (a 4 x 4 transpose
// for m = 4, even/odd lanes for m = 2) give all n elements of that row for the eight tiles,
// instead of 8 n scalar loads. Pixels outside the plane are read from the neighbouring memory
// and then cleared with a mask; rows outside the plane are read from the nearest row inside.
// Output tiles go back the same way: each m-pixel row of a run's four tiles is 4 m contiguous
// floats, stored 4 at a time (masked where the run reaches past the output's right edge,
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

// A run of four consecutive tiles: its sample and the pixel position of its first tile.
struct TileRun {
  std::int64_t sample = 0, row = 0, column = 0;
};

// ensures: whether tiles first .. first + 3 lie in one tile row (plan numbers them sample by
// sample, row by row); if so, `run` holds their sample and the first tile's top-left pixel
// (tile position * m).
template <class Plan>
bool locate_run(const Plan& plan, std::int64_t first, int m, TileRun& run) {
  const std::int64_t r = first % plan.per_sample, tile_column = r % plan.tiles_w;
  run.sample = first / plan.per_sample;
  run.row = r / plan.tiles_w * m;
  run.column = tile_column * m;
  return tile_column + 3 < plan.tiles_w;
}

// The reads of one group of eight tiles (n x n windows, m pixels apart) as rows of two runs.
template <int n, int m>
struct WindowRows {
  static_assert((m == 2 && (n == 2 || n == 4)) || (m == 4 && (n == 4 || n == 6)), "unsupported window");
  static constexpr int span = m == 2 ? n + 6 : (n - 1) / 4 * 4 + 16;  // floats read per row of a run
  std::int64_t offset[n][2];                 // window row i of run k starts at channel start + offset[i][k]
  alignas(32) std::int32_t mask[n][n][8];    // -1 where pixel (i, j) of lane l lies inside the plane
  bool padded = false;                       // whether any mask lane is 0
};

// requires: the group's tiles numbered as plan says (per_sample tiles per sample, tiles_w per
// row); the source [samples, channels, height, width] with samples = tiles / per_sample.
// ensures: whether tiles first .. first + 7 are two runs of four tiles in one tile row each,
// with every row read (`span` floats from `offset`, in every channel) inside the source; if
// so, `rows` describes them: windows from (top, left) + tile position * m.
template <int n, int m, class Plan>
bool plan_window_rows(const Plan& plan, std::int64_t first, std::int64_t top, std::int64_t left, std::int64_t height,
                      std::int64_t width, std::int64_t channels, WindowRows<n, m>& rows) {
  if (first + 8 > plan.tiles) return false;
  const std::int64_t plane = height * width, sample_stride = channels * plane;
  const std::int64_t end = plan.tiles / plan.per_sample * sample_stride;
  rows.padded = false;
  for (int run = 0; run < 2; ++run) {
    TileRun at_run;
    if (!locate_run(plan, first + 4 * run, m, at_run)) return false;
    const std::int64_t sample = at_run.sample, h0 = top + at_run.row, w0 = left + at_run.column;
    for (int i = 0; i < n; ++i) {
      const std::int64_t h = h0 + i;
      const bool row_inside = h >= 0 && h < height;
      const std::int64_t at = sample * sample_stride + std::clamp<std::int64_t>(h, 0, height - 1) * width + w0;
      if (at < 0 || at + (channels - 1) * plane + WindowRows<n, m>::span > end) return false;
      rows.offset[i][run] = at;
      for (int j = 0; j < n; ++j)
        for (int l = 0; l < 4; ++l) {
          const std::int64_t w = w0 + j + l * m;
          const bool inside = row_inside && w >= 0 && w < width;
          rows.mask[i][j][4 * run + l] = inside ? -1 : 0;
          rows.padded |= !inside;
        }
    }
  }
  return true;
}

// ensures: d[j] lane l = (l < 4 ? a : b)[j + m (l mod 4)] for j in [0, n): one window row of
// the two runs starting at a and b (reads span floats from each).
template <int n, int m>
inline void load_window_row(const float* a, const float* b, __m256 (&d)[n]) {
  if constexpr (m == 2) {
    for (int j = 0; j < n; j += 2) {
      const __m256 low = _mm256_loadu2_m128(b + j, a + j), high = _mm256_loadu2_m128(b + j + 4, a + j + 4);
      d[j] = _mm256_shuffle_ps(low, high, _MM_SHUFFLE(2, 0, 2, 0));
      d[j + 1] = _mm256_shuffle_ps(low, high, _MM_SHUFFLE(3, 1, 3, 1));
    }
  } else {
    for (int j = 0; j < n; j += 4) {  // the 4 x 4 transpose of four rows of four
      __m256 r[4];
      for (int k = 0; k < 4; ++k) r[k] = _mm256_loadu2_m128(b + j + 4 * k, a + j + 4 * k);
      const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
      const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
      const __m256 columns[4] = {_mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0)),
                                 _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2)),
                                 _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0)),
                                 _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2))};
      for (int k = 0; k < 4 && j + k < n; ++k) d[j + k] = columns[k];
    }
  }
}

// requires: rows from plan_window_rows for this group; channel the source's channel start.
// ensures: window[i][j] lane l = pixel (i, j) of tile l's window of this channel (0 outside).
template <int n, int m>
inline void load_windows(const float* channel, const WindowRows<n, m>& rows, Lanes<float> (&window)[n][n]) {
  for (int i = 0; i < n; ++i) {
    __m256 d[n];
    load_window_row<n, m>(channel + rows.offset[i][0], channel + rows.offset[i][1], d);
    for (int j = 0; j < n; ++j) {
      if (rows.padded)
        d[j] = _mm256_and_ps(d[j], _mm256_castsi256_ps(
                                       _mm256_load_si256(reinterpret_cast<const __m256i*>(rows.mask[i][j]))));
      window[i][j].v = d[j];
    }
  }
}

// The output rows of one group of eight m x m tiles, as two runs of four.
template <int m>
struct TileRows {
  static_assert(m == 2 || m == 4, "unsupported tile");
  std::int64_t offset[m][2];  // row i of run k starts at channel start + offset[i][k]; -1 below the edge
  int columns[2];             // floats of each row of run k inside the output (4 m when whole)
};

// ensures: whether tiles first .. first + 7 are two runs of four tiles in one tile row each;
// if so, `rows` describes where their rows go in an output [samples, channels, height, width].
template <int m, class Plan>
bool plan_tile_rows(const Plan& plan, std::int64_t first, std::int64_t height, std::int64_t width,
                    std::int64_t channels, TileRows<m>& rows) {
  if (first + 8 > plan.tiles) return false;
  const std::int64_t sample_stride = channels * height * width;
  for (int run = 0; run < 2; ++run) {
    TileRun at_run;
    if (!locate_run(plan, first + 4 * run, m, at_run)) return false;
    const std::int64_t sample = at_run.sample, h0 = at_run.row, w0 = at_run.column;
    rows.columns[run] = static_cast<int>(std::min<std::int64_t>(4 * m, width - w0));
    for (int i = 0; i < m; ++i)
      rows.offset[i][run] = h0 + i < height ? sample * sample_stride + (h0 + i) * width + w0 : -1;
  }
  return true;
}

// ensures: the first `columns` of the 4 m floats chunk[0 .. m) (four each, from the low or
// high half: run 0 or 1) stored at destination.
template <int m>
inline void store_run_row(float* destination, const __m256 (&chunk)[m], int run, int columns) {
  for (int k = 0; k < m && 4 * k < columns; ++k) {
    const __m128 four = run == 0 ? _mm256_castps256_ps128(chunk[k]) : _mm256_extractf128_ps(chunk[k], 1);
    if (4 * k + 4 <= columns) {
      _mm_storeu_ps(destination + 4 * k, four);
    } else {
      const int left = columns - 4 * k;
      const __m128i mask = _mm_setr_epi32(-1, left > 1 ? -1 : 0, left > 2 ? -1 : 0, 0);
      _mm_maskstore_ps(destination + 4 * k, mask, four);
    }
  }
}

// requires: rows from plan_tile_rows for this group; channel the output's channel start.
// ensures: pixel (i, j) of tile l = max(scale * tile[i][j] lane l + shift, 0 if relu) written.
template <int m>
inline void store_tiles(const Lanes<float> (&tile)[m][m], float scale, float shift, bool relu,
                        const TileRows<m>& rows, float* channel) {
  const __m256 s = _mm256_set1_ps(scale), b = _mm256_set1_ps(shift), zero = _mm256_setzero_ps();
  for (int i = 0; i < m; ++i) {
    __m256 o[m], chunk[m];
    for (int j = 0; j < m; ++j) {
      o[j] = _mm256_add_ps(_mm256_mul_ps(tile[i][j].v, s), b);
      if (relu) o[j] = _mm256_max_ps(o[j], zero);
    }
    if constexpr (m == 2) {  // interleave: chunk k = floats 4k .. 4k+3 of the row
      chunk[0] = _mm256_unpacklo_ps(o[0], o[1]);
      chunk[1] = _mm256_unpackhi_ps(o[0], o[1]);
    } else {  // the 4 x 4 transpose: chunk k = tile k's row
      const __m256 t0 = _mm256_unpacklo_ps(o[0], o[1]), t1 = _mm256_unpackhi_ps(o[0], o[1]);
      const __m256 t2 = _mm256_unpacklo_ps(o[2], o[3]), t3 = _mm256_unpackhi_ps(o[2], o[3]);
      chunk[0] = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
      chunk[1] = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
      chunk[2] = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
      chunk[3] = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int run = 0; run < 2; ++run)
      if (rows.offset[i][run] >= 0) store_run_row<m>(channel + rows.offset[i][run], chunk, run, rows.columns[run]);
  }
}

#endif  // TINYNET_WINOGRAD_WINDOW_ROWS

}  // namespace winograd
}  // namespace cpu
}  // namespace tinynet
