// tinynet/backend/cpu/packed_gemm.hpp: single-threaded float GEMM on tinynet's register
// kernel (backend/cpu/register_kernel.hpp: 6 x 16 with AVX2 + FMA, 6 x 32 with AVX-512).
//
// The blocking of GotoBLAS / BLIS: op(B) is copied in blocks of depth_block x column_block
// into panels of 16 columns ([k][16], the last one zero-filled), op(A) in blocks of
// row_block x depth_block into slivers of 6 rows ([k][6], times alpha); each call's one or two
// 16-column panels (16 KiB each at depth 256: L1) meet every 6-row sliver of the A block (L2)
// in the kernel. On a 2-core AVX2 EPYC, one thread, NN 512x2304x128: Eigen's product 61
// GFLOP/s, this one 90 (docs/performance.md, "GEMM").
#pragma once

#include <algorithm>
#include <cstdint>

#include "tinynet/backend/cpu/register_kernel.hpp"
#include "tinynet/core/tensor.hpp"

namespace tinynet {
namespace cpu {
namespace packed {

// ensures: whether this GEMM beats Eigen's at M x N x K (`tinynet_kernels
// --benchmark_filter=gemm/`): not for a side under 32 (Dense layers' 10 outputs, first
// layers' 12 or 27 patch rows: panels and slivers mostly padding), nor for a depth over 64x
// the larger side (first layers' kernel gradients: thousands of depth blocks, each packed
// and added to C, for a small output). With AVX-512, where Eigen's 48 x 4 kernel is strong
// (NN 2048x256x512, one thread: 145-149 GFLOP/s against this one's 133-136), only for 128
// rows or more at a depth of 128 or less (ResNet50's shallow products: median 1.22x; the
// deeper ones 0.92x).
inline bool suits(std::int64_t M, std::int64_t N, std::int64_t K) {
#ifdef __AVX512F__
  if (K > 128 || M < 128) return false;
#endif
  return std::min({M, N, K}) >= 32 && K <= 64 * std::max(M, N);
}

// A row-major matrix as stored, whose columns may come in groups side by side: element (r, c)
// at data + r * ld + c, or with groups of `group` columns, at data + (c / group) * group_stride
// + r * ld + c % group (a slab of NCHW samples seen as one [C, samples * H*W] matrix: group =
// H*W, group_stride = C*H*W).
struct StoredMatrix {
  const float* data;
  std::int64_t ld;
  std::int64_t group = 0, group_stride = 0;  // group 0: one plain matrix

  const float* at(std::int64_t r, std::int64_t c) const {
    return group ? data + c / group * group_stride + r * ld + c % group : data + r * ld + c;
  }
  // ensures: whether columns [c, c + count) of a row lie in one group (are contiguous).
  bool contiguous(std::int64_t c, std::int64_t count) const { return !group || c % group + count <= group; }
  // ensures: run(pointer, offset, length) for the contiguous runs of row r's columns
  // [c0, c0 + count), offset counted from c0.
  template <class Run>
  void for_each_run(std::int64_t r, std::int64_t c0, std::int64_t count, Run&& run) const {
    for (std::int64_t done = 0; done < count;) {
      const std::int64_t c = c0 + done;
      const std::int64_t length = group ? std::min(count - done, group - c % group) : count - done;
      run(at(r, c), done, length);
      done += length;
    }
  }
};

#ifdef TINYNET_REGISTER_KERNEL

constexpr std::int64_t depth_block = 256;    // k per block: a 16-column panel is 16 KiB
constexpr std::int64_t row_block = 144;      // rows of A per block (a multiple of 6): 144 KiB
constexpr std::int64_t column_block = 3072;  // columns of B per block (a multiple of 16): 3 MiB
constexpr std::int64_t pack_slack = 8;       // floats past the packed slivers (pack_rows)

// ensures: n rounded up to a multiple of `to`.
inline std::int64_t round_up(std::int64_t n, std::int64_t to) { return (n + to - 1) / to * to; }

// requires: rows[r] + k readable for 8 floats (r < 8).
// ensures: value[e] = lanes r of rows[r][k + e] (r < 8): an 8 x 8 transpose in registers.
inline void transpose_8x8(const float* const* rows, std::int64_t k, __m256 (&value)[8]) {
  __m256 r[8];
  for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(rows[i] + k);
  // pairs of rows interleaved (t), then quadruples (q): q[e] holds value e of rows 0-3 in its
  // low 128-bit lane and value e + 4 of them in its high lane, q[4 + e] the same of rows 4-7 ...
  __m256 t[8], q[8];
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int half = 0; half < 2; ++half) {  // rows 0-3, then rows 4-7
    const __m256 *lo = t + 4 * half, *hi = t + 4 * half + 2;
    q[4 * half + 0] = _mm256_shuffle_ps(lo[0], hi[0], _MM_SHUFFLE(1, 0, 1, 0));  // value 0 (4)
    q[4 * half + 1] = _mm256_shuffle_ps(lo[0], hi[0], _MM_SHUFFLE(3, 2, 3, 2));  // value 1 (5)
    q[4 * half + 2] = _mm256_shuffle_ps(lo[1], hi[1], _MM_SHUFFLE(1, 0, 1, 0));  // value 2 (6)
    q[4 * half + 3] = _mm256_shuffle_ps(lo[1], hi[1], _MM_SHUFFLE(3, 2, 3, 2));  // value 3 (7)
  }
  // ... and the 128-bit lanes of rows 0-3 and 4-7 joined: value e of all eight rows
  for (int e = 0; e < 4; ++e) {
    value[e] = _mm256_permute2f128_ps(q[e], q[4 + e], 0x20);
    value[e + 4] = _mm256_permute2f128_ps(q[e], q[4 + e], 0x31);
  }
}

// ensures: as pack_rows, for op(A) = A^T (A[k][i]): each k's row of A read once, in order,
// six neighbours at a time into their slivers (a 4 + 2 copy each).
inline void pack_rows_transposed(const float* A, std::int64_t lda, std::int64_t i0, std::int64_t rows,
                                 std::int64_t p0, std::int64_t depth, float alpha, float* out) {
  constexpr int sliver = kernel::max_rows;
  const __m128 scale = _mm_set1_ps(alpha);
  const std::int64_t whole = rows / sliver * sliver;
  for (std::int64_t k = 0; k < depth; ++k) {
    const float* a = A + (p0 + k) * lda + i0;
    std::int64_t s = 0;
    for (; s < whole; s += sliver) {
      float* o = out + s * depth + k * sliver;
      _mm_storeu_ps(o, _mm_mul_ps(_mm_loadu_ps(a + s), scale));
      const __m128 pair = _mm_castpd_ps(_mm_load_sd(reinterpret_cast<const double*>(a + s + 4)));
      _mm_store_sd(reinterpret_cast<double*>(o + 4), _mm_castps_pd(_mm_mul_ps(pair, scale)));
    }
    if (s < rows)
      for (int r = 0; r < sliver; ++r) out[s * depth + k * sliver + r] = s + r < rows ? alpha * a[s + r] : 0.0f;
  }
}

// requires: out has 8 floats of slack past the slivers (pack_slack).
// ensures: out = the slivers of alpha * op(A)[i0, i0 + rows) x [p0, p0 + depth): sliver s at
// out + s * depth * 6, element (r, k) at [k * 6 + r], rows past the block zero. A as stored:
// each whole sliver's six rows eight k at a time, transposed in registers (value e's two
// spare lanes are overwritten by value e + 1, the last one's by the next sliver or fall in
// the slack).
inline void pack_rows(bool trans, const float* A, std::int64_t lda, std::int64_t i0, std::int64_t rows,
                      std::int64_t p0, std::int64_t depth, float alpha, float* out) {
  if (trans) return pack_rows_transposed(A, lda, i0, rows, p0, depth, alpha, out);
  constexpr int sliver = kernel::max_rows;
  const __m256 scale = _mm256_set1_ps(alpha);
  for (std::int64_t s = 0; s < rows; s += sliver) {
    float* o = out + s * depth;
    const int live = static_cast<int>(std::min<std::int64_t>(sliver, rows - s));
    const float* row[8];
    for (int r = 0; r < 8; ++r) row[r] = A + (i0 + s + std::min(r, live - 1)) * lda + p0;
    std::int64_t k = 0;
    if (live == sliver)
      for (; k + 8 <= depth; k += 8) {
        __m256 value[8];
        transpose_8x8(row, k, value);
        for (int e = 0; e < 8; ++e) _mm256_storeu_ps(o + (k + e) * sliver, _mm256_mul_ps(value[e], scale));
      }
    for (; k < depth; ++k)
      for (int r = 0; r < sliver; ++r) o[k * sliver + r] = r < live ? alpha * row[r][k] : 0.0f;
  }
}

// ensures: out = the panels of op(B)[p0, p0 + depth) x [j0, j0 + columns): panel q at
// out + q * depth * 16, element (k, j) at [k * 16 + j], columns past the block zero.
inline void pack_columns(bool trans, const StoredMatrix& B, std::int64_t p0, std::int64_t depth, std::int64_t j0,
                         std::int64_t columns, float* out) {
  constexpr int width = kernel::panel_width;
  for (std::int64_t q = 0; q < columns; q += width) {
    float* o = out + q * depth;
    const int live = static_cast<int>(std::min<std::int64_t>(width, columns - q));
    if (trans && live == width) {  // op(B)(k, j) = B(j, k): 16 rows of B, transposed 8 x 8
      // the columns of B break into contiguous runs at the same places in every row
      B.for_each_run(j0 + q, p0, depth, [&](const float*, std::int64_t first, std::int64_t count) {
        const float* rows[width];
        for (int j = 0; j < width; ++j) rows[j] = B.at(j0 + q + j, p0 + first);
        float* panel = o + first * width;
        std::int64_t k = 0;
        for (; k + 8 <= count; k += 8)
          for (int half = 0; half < 2; ++half) {
            __m256 value[8];
            transpose_8x8(rows + 8 * half, k, value);
            for (int e = 0; e < 8; ++e) _mm256_store_ps(panel + (k + e) * width + 8 * half, value[e]);
          }
        for (; k < count; ++k)
          for (int j = 0; j < width; ++j) panel[k * width + j] = rows[j][k];
      });
    } else if (trans) {  // a last, partial panel
      for (int j = 0; j < width; ++j) {
        if (j >= live) {
          for (std::int64_t k = 0; k < depth; ++k) o[k * width + j] = 0.0f;
          continue;
        }
        B.for_each_run(j0 + q + j, p0, depth, [&](const float* b, std::int64_t first, std::int64_t count) {
          for (std::int64_t k = 0; k < count; ++k) o[(first + k) * width + j] = b[k];
        });
      }
    } else {
      for (std::int64_t k = 0; k < depth; ++k) {
        float* row = o + k * width;
        if (live == width && B.contiguous(j0 + q, width)) {  // 64-byte aligned row, two AVX copies
          const float* b = B.at(p0 + k, j0 + q);
          _mm256_store_ps(row, _mm256_loadu_ps(b));
          _mm256_store_ps(row + 8, _mm256_loadu_ps(b + 8));
          continue;
        }
        for (int j = live; j < width; ++j) row[j] = 0.0f;
        B.for_each_run(p0 + k, j0 + q, live, [&](const float* b, std::int64_t first, std::int64_t count) {
          for (std::int64_t j = 0; j < count; ++j) row[first + j] = b[j];
        });
      }
    }
  }
}

// The calling thread's packing buffers (grown to the largest call, never shrunk).
struct PackBuffers {
  Tensor<float> rows, columns;
};
inline PackBuffers& pack_buffers() {
  thread_local PackBuffers buffers;
  return buffers;
}

// requires: op(A) M x K, op(B) K x N (B as stored: N x K when trans_b), C M x N, A and C
// row-major with leading dimensions lda/ldc; K > 0; beta 0 or 1.
// ensures: C = alpha * op(A) * op(B) + beta * C, on the calling thread.
inline void gemm(bool trans_a, bool trans_b, std::int64_t M, std::int64_t N, std::int64_t K, float alpha,
                 const float* A, std::int64_t lda, const StoredMatrix& B, float beta, float* C, std::int64_t ldc) {
  constexpr int width = kernel::panel_width, sliver = kernel::max_rows;
  PackBuffers& buffers = pack_buffers();
  const std::int64_t depth_max = std::min(K, depth_block);
  const std::int64_t rows_need = round_up(std::min(M, row_block), sliver) * depth_max + pack_slack;
  const std::int64_t columns_need = round_up(std::min(N, column_block), width) * depth_max;
  if (buffers.rows.numel() < rows_need) buffers.rows.resize(Shape{rows_need});
  if (buffers.columns.numel() < columns_need) buffers.columns.resize(Shape{columns_need});
  float* packed_a = buffers.rows.data();
  float* packed_b = buffers.columns.data();
  for (std::int64_t j0 = 0; j0 < N; j0 += column_block) {
    const std::int64_t columns = std::min(column_block, N - j0);
    for (std::int64_t p0 = 0; p0 < K; p0 += depth_block) {
      const std::int64_t depth = std::min(depth_block, K - p0);
      pack_columns(trans_b, B, p0, depth, j0, columns, packed_b);
      const bool accumulate = p0 > 0 || beta != 0.0f;
      for (std::int64_t i0 = 0; i0 < M; i0 += row_block) {
        const std::int64_t rows = std::min(row_block, M - i0);
        pack_rows(trans_a, A, lda, i0, rows, p0, depth, alpha, packed_a);
        for (std::int64_t q = 0; q < columns; q += kernel::max_columns) {
          const float* panel = packed_b + q * depth;
          const int live_columns = static_cast<int>(std::min<std::int64_t>(kernel::max_columns, columns - q));
          for (std::int64_t s = 0; s < rows; s += sliver) {
            const int live_rows = static_cast<int>(std::min<std::int64_t>(sliver, rows - s));
            float* c = C + (i0 + s) * ldc + j0 + q;
            const float* a = packed_a + s * depth;
            if (accumulate)
              kernel::panel_product<true>(live_rows, a, 1, sliver, panel, depth * width, depth, c, ldc, live_columns);
            else
              kernel::panel_product<false>(live_rows, a, 1, sliver, panel, depth * width, depth, c, ldc, live_columns);
          }
        }
      }
    }
  }
}

// requires: as above, B row-major with leading dimension ldb. ensures: as above.
inline void gemm(bool trans_a, bool trans_b, std::int64_t M, std::int64_t N, std::int64_t K, float alpha,
                 const float* A, std::int64_t lda, const float* B, std::int64_t ldb, float beta, float* C,
                 std::int64_t ldc) {
  gemm(trans_a, trans_b, M, N, K, alpha, A, lda, StoredMatrix{B, ldb}, beta, C, ldc);
}
#endif

}  // namespace packed
}  // namespace cpu
}  // namespace tinynet
