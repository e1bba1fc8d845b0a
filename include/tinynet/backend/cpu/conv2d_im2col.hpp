// tinynet/backend/cpu/conv2d_im2col.hpp: convolution as im2col + GEMM, in slabs of samples.
//
// Layouts: x [N,C,H,W], kernel [OC,C,KH,KW] (OIHW), y [N,OC,OH,OW]. Each pass splits the
// batch into slabs of whole samples sized so that a slab's patch matrix (im2col, [C*KH*KW,
// slab*OH*OW]) stays in the L2 cache, and the OpenMP threads share the slabs: each builds
// its slab's patches, runs one single-threaded GEMM on them and consumes the result while
// it is still in cache. A whole-batch patch matrix (9x the input for 3x3 kernels) would be
// written to and read back from memory instead (`tinynet_kernels --benchmark_filter=conv_`
// times the passes). Nothing is kept between forward() and backward(): the backward pass
// rebuilds the patches of the same x.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "tinynet/backend/conv_geometry.hpp"
#include "tinynet/backend/cpu/conv_output_transform.hpp"
#include "tinynet/backend/cpu/gemm.hpp"
#include "tinynet/core/tensor.hpp"

namespace tinynet {
namespace cpu {

template <class T>
struct Im2colWorkspace {
  Tensor<T> slabs;          // per thread: one slab's patches (and GEMM output)
  Tensor<T> dy_matrix;      // [OC, N*OH*OW]: the output gradient, channel-major
  Tensor<T> kernel_parts;   // per thread: its slabs' share of the kernel gradient
  Tensor<T> whole_batch_patches;  // [C*KH*KW, N*OH*OW], for deep layers' kernel gradients
  std::vector<std::int32_t> patch_sources;  // the geometry's patch_sources table, when it copies by table
};

// A 1x1 convolution with stride 1 and no padding: its patch matrix holds each sample's
// [C, H*W] planes as they are.
inline bool is_pointwise(const ConvGeometry& g) {
  return g.kernel_h == 1 && g.kernel_w == 1 && g.stride_h == 1 && g.stride_w == 1 && g.pad_top == 0 &&
         g.pad_left == 0 && g.out_h == g.in_h && g.out_w == g.in_w;
}

// Narrow planes (fewer than 8 output columns: ResNet50's deep stages) and strided
// convolutions copy patches one value at a time through a table, instead of by output rows
// (a row of 2-6 values costs more in loop and call overhead than in copying).
inline bool copies_by_table(const ConvGeometry& g) { return g.stride_w != 1 || g.out_w < 8; }

// ensures: null when g does not copy by table (or is pointwise); otherwise the table, kept in
// `table`: for kernel offset k = i*KW + j and output pixel p, table[k*P + p] = the index in its
// input plane of the value that patch position reads, or -1 where it reads padding.
inline const std::int32_t* patch_sources(const ConvGeometry& g, std::vector<std::int32_t>& table) {
  if (is_pointwise(g) || !copies_by_table(g)) return nullptr;
  const std::int64_t P = g.out_pixels();
  table.resize(static_cast<std::size_t>(g.kernel_h * g.kernel_w * P));
  for (int i = 0; i < g.kernel_h; ++i)
    for (int j = 0; j < g.kernel_w; ++j)
      for (std::int64_t oh = 0; oh < g.out_h; ++oh)
        for (std::int64_t ow = 0; ow < g.out_w; ++ow) {
          const std::int64_t ih = oh * g.stride_h - g.pad_top + i, iw = ow * g.stride_w - g.pad_left + j;
          const bool inside = ih >= 0 && ih < g.in_h && iw >= 0 && iw < g.in_w;
          table[static_cast<std::size_t>((i * g.kernel_w + j) * P + oh * g.out_w + ow)] =
              inside ? static_cast<std::int32_t>(ih * g.in_w + iw) : -1;
        }
  return table.data();
}

// ensures: col[(c*KH+i)*KW+j, n*P + oh*OW+ow] = x[n,c,oh*sh-pt+i,ow*sw-pl+j] (0 outside)
// for the `batch` samples of x, rows of col `ld` elements apart; `sources` is
// patch_sources(g, ...). On the calling thread.
template <class T>
void im2col_samples(const T* x, std::int64_t batch, const ConvGeometry& g, T* col, std::int64_t ld,
                    const std::int32_t* sources) {
  const std::int64_t P = g.out_pixels();
  if (is_pointwise(g)) {  // one copy per plane
    for (std::int64_t c = 0; c < g.channels; ++c)
      for (std::int64_t n = 0; n < batch; ++n)
        std::memcpy(col + c * ld + n * P, x + (n * g.channels + c) * P, sizeof(T) * P);
    return;
  }
  if (sources) {
    const std::int64_t offsets = g.kernel_h * g.kernel_w;
    for (std::int64_t c = 0; c < g.channels; ++c)
      for (std::int64_t n = 0; n < batch; ++n) {
        const T* plane = x + (n * g.channels + c) * g.in_pixels();
        for (std::int64_t k = 0; k < offsets; ++k) {
          T* out = col + (c * offsets + k) * ld + n * P;
          const std::int32_t* from = sources + k * P;
          for (std::int64_t p = 0; p < P; ++p) out[p] = from[p] >= 0 ? plane[from[p]] : T(0);
        }
      }
    return;
  }
  for (std::int64_t r = 0; r < g.patch_size(); ++r) {
    const std::int64_t c = r / (g.kernel_h * g.kernel_w);
    const int i = static_cast<int>(r / g.kernel_w % g.kernel_h), j = static_cast<int>(r % g.kernel_w);
    for (std::int64_t n = 0; n < batch; ++n) {
      const T* plane = x + (n * g.channels + c) * g.in_pixels();
      T* out = col + r * ld + n * P;
      for (std::int64_t oh = 0; oh < g.out_h; ++oh) {
        const std::int64_t ih = oh * g.stride_h - g.pad_top + i;
        T* row = out + oh * g.out_w;
        if (ih < 0 || ih >= g.in_h) {
          std::fill(row, row + g.out_w, T(0));
          continue;
        }
        // stride 1 (others go by table): iw = ow - pl + j, contiguous, with zero borders
        const T* src = plane + ih * g.in_w;
        const std::int64_t lo = std::clamp<std::int64_t>(g.pad_left - j, 0, g.out_w);
        const std::int64_t hi = std::clamp<std::int64_t>(g.in_w + g.pad_left - j, lo, g.out_w);
        std::fill(row, row + lo, T(0));
        std::memcpy(row + lo, src + lo - g.pad_left + j, sizeof(T) * (hi - lo));
        std::fill(row + hi, row + g.out_w, T(0));
      }
    }
  }
}

// ensures: dx [batch,C,H,W] = the patch gradients dcol (laid out as im2col_samples writes
// them, rows `ld` apart) scattered back: the adjoint of im2col; `sources` is
// patch_sources(g, ...). On the calling thread.
template <class T>
void col2im_samples(const T* dcol, std::int64_t ld, std::int64_t batch, const ConvGeometry& g, T* dx,
                    const std::int32_t* sources) {
  const std::int64_t P = g.out_pixels();
  if (is_pointwise(g)) {  // one copy per plane
    for (std::int64_t n = 0; n < batch; ++n)
      for (std::int64_t c = 0; c < g.channels; ++c)
        std::memcpy(dx + (n * g.channels + c) * P, dcol + c * ld + n * P, sizeof(T) * P);
    return;
  }
  if (sources) {  // within one kernel offset no two patch values share a source
    const std::int64_t offsets = g.kernel_h * g.kernel_w;
    for (std::int64_t n = 0; n < batch; ++n)
      for (std::int64_t c = 0; c < g.channels; ++c) {
        T* plane = dx + (n * g.channels + c) * g.in_pixels();
        std::fill(plane, plane + g.in_pixels(), T(0));
        for (std::int64_t k = 0; k < offsets; ++k) {
          const T* src = dcol + (c * offsets + k) * ld + n * P;
          const std::int32_t* to = sources + k * P;
          for (std::int64_t p = 0; p < P; ++p)
            if (to[p] >= 0) plane[to[p]] += src[p];
        }
      }
    return;
  }
  for (std::int64_t n = 0; n < batch; ++n) {
    for (std::int64_t c = 0; c < g.channels; ++c) {
      T* plane = dx + (n * g.channels + c) * g.in_pixels();
      std::fill(plane, plane + g.in_pixels(), T(0));
      for (int i = 0; i < g.kernel_h; ++i) {
        for (int j = 0; j < g.kernel_w; ++j) {
          const T* src = dcol + ((c * g.kernel_h + i) * g.kernel_w + j) * ld + n * P;
          for (std::int64_t oh = 0; oh < g.out_h; ++oh) {
            const std::int64_t ih = oh * g.stride_h - g.pad_top + i;
            if (ih < 0 || ih >= g.in_h) continue;
            T* dst = plane + ih * g.in_w;
            const T* s = src + oh * g.out_w;
            // stride 1 (others go by table)
            const std::int64_t lo = std::clamp<std::int64_t>(g.pad_left - j, 0, g.out_w);
            const std::int64_t hi = std::clamp<std::int64_t>(g.in_w + g.pad_left - j, lo, g.out_w);
            T* d = dst - g.pad_left + j;
            for (std::int64_t ow = lo; ow < hi; ++ow) d[ow] += s[ow];
          }
        }
      }
    }
  }
}

// ensures: the sum of v[0, n), in 16 independent lanes (one running sum is a chain of
// dependent additions that the compiler may not reorder, so it would not vectorise).
template <class T>
T lane_sum(const T* v, std::int64_t n) {
  constexpr int lanes = 16;
  T part[lanes] = {};
  std::int64_t i = 0;
  for (; i + lanes <= n; i += lanes)
    for (int k = 0; k < lanes; ++k) part[k] += v[i + k];
  T total = 0;
  for (; i < n; ++i) total += v[i];
  for (T p : part) total += p;
  return total;
}

// How a pass splits the batch: `size` samples per slab (the last may hold fewer), `count`
// slabs, `threads` OpenMP threads sharing them.
struct SlabPlan {
  std::int64_t size = 1, count = 0;
  int threads = 1;

  // requires: batch >= 0; per_sample = elements of one sample's slab buffer; kernel =
  // elements of the kernel matrix, which each slab's GEMM packs again.
  // ensures: slabs of at most about 1 MiB, or 4x the kernel where that is larger (so
  // repacking a large kernel stays a small part of each GEMM), at least one sample each,
  // and a multiple of `threads` slabs of near-equal size.
  SlabPlan(std::int64_t batch, std::int64_t per_sample, std::int64_t kernel, std::size_t element_bytes) {
#ifdef _OPENMP
    threads = omp_in_parallel() ? 1 : omp_get_max_threads();
#endif
    const std::int64_t target = std::max<std::int64_t>(std::int64_t(1) << 20, 4 * kernel * std::int64_t(element_bytes));
    const std::int64_t fit = std::max<std::int64_t>(1, target / std::max<std::int64_t>(1, per_sample * std::int64_t(element_bytes)));
    // As many slabs as needed, rounded up to a multiple of the threads, then evened out, so
    // that every thread gets the same number of samples (give or take one slab's rounding).
    count = (batch + fit - 1) / fit;
    count = (count + threads - 1) / threads * threads;
    size = std::max<std::int64_t>(1, (batch + count - 1) / std::max<std::int64_t>(1, count));
    count = (batch + size - 1) / size;
  }
  std::int64_t first(std::int64_t slab) const { return slab * size; }
  std::int64_t samples(std::int64_t slab, std::int64_t batch) const { return std::min(size, batch - slab * size); }
};

// A pointwise convolution's patch matrix would be a copy of x. With enough pixels per sample
// for a well-shaped GEMM (ResNet50's 12x12 stage and larger), every pass runs one product per
// sample on x, y, dy and dx in place (computes_per_sample). Deep layers with a few pixels per
// sample (a GEMM of 4 or 9 columns would be poorly shaped) run one GEMM per slab of samples:
// on x in place where the GEMM packs the slab as one matrix of grouped columns (packs_groups:
// floats with the register kernel, 32 channels or more on both sides; the forward pass and the
// kernel gradient), otherwise on copied patches. Their input gradient goes through the slab
// buffer and col2im.
constexpr std::int64_t min_pixels_for_pointwise_gemms = 64;
template <class T>
bool computes_per_sample(const ConvGeometry& g) {
  return is_pointwise(g) && g.out_pixels() >= min_pixels_for_pointwise_gemms;
}
template <class T>
bool reads_input_in_place(const ConvGeometry& g) {
  return is_pointwise(g) && packs_groups<T>() && packed::suits(g.out_channels, g.channels, g.channels);
}

// ensures: the calling thread's index in the current OpenMP team (0 outside one).
inline int thread_index() {
#ifdef _OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

// requires: x [N,C,H,W], kernel [OC,C,KH,KW], y sized [N,OC,OH,OW]; scale/shift null or OC.
// ensures: y = transform(conv(x, kernel)), per output channel.
template <class T>
void im2col_conv2d_forward(const Tensor<T>& x, const Tensor<T>& kernel, Tensor<T>& y, const ConvGeometry& g,
                           Im2colWorkspace<T>& ws, const ConvOutputTransform<T>& transform) {
  const std::int64_t N = x.dim(0), P = g.out_pixels(), OC = g.out_channels, rows = g.patch_size();
  if (computes_per_sample<T>(g)) {  // one product per sample, straight into y
    const std::int64_t in_plane = g.channels * P, out_plane = OC * P;
#pragma omp parallel for schedule(static)
    for (std::int64_t n = 0; n < N; ++n) {
      T* y_n = y.data() + n * out_plane;
      gemm_serial<T>(false, false, OC, P, rows, T(1), kernel.data(), rows, x.data() + n * in_plane, P, T(0), y_n, P);
      if (!transform.is_identity())
        for (std::int64_t oc = 0; oc < OC; ++oc) transform.apply(oc, y_n + oc * P, y_n + oc * P, P);
    }
    return;
  }
  const bool in_place = reads_input_in_place<T>(g);
  const std::int32_t* sources = patch_sources(g, ws.patch_sources);  // once per call, for every slab
  const std::int64_t patch_rows = in_place ? 0 : rows;
  const SlabPlan plan(N, (patch_rows + OC) * P, OC * rows, sizeof(T));
  const std::int64_t per_thread = (patch_rows + OC) * plan.size * P;
  ws.slabs.resize(Shape{plan.threads, per_thread});
#pragma omp parallel for num_threads(plan.threads) schedule(static)
  for (std::int64_t s = 0; s < plan.count; ++s) {
    T* patches = ws.slabs.data() + thread_index() * per_thread;
    T* result = patches + patch_rows * plan.size * P;  // [OC, samples*P]
    const std::int64_t first = plan.first(s), samples = plan.samples(s, N), cols = samples * P;
    const T* slab_x = x.data() + first * g.channels * g.in_pixels();
    if (in_place) {  // the slab's [C, P] planes side by side
      gemm_grouped<T>(false, OC, cols, rows, T(1), kernel.data(), rows, slab_x, P, P, rows * P, T(0), result, cols);
    } else {
      im2col_samples(slab_x, samples, g, patches, cols, sources);
      gemm_serial<T>(false, false, OC, cols, rows, T(1), kernel.data(), rows, patches, cols, T(0), result, cols);
    }
    for (std::int64_t n = 0; n < samples; ++n)
      for (std::int64_t oc = 0; oc < OC; ++oc)
        transform.apply(oc, result + oc * cols + n * P, y.data() + ((first + n) * OC + oc) * P, P);
  }
}

// Per sample (computes_per_sample): dx[n] = K^T dy[n], and each thread sums dy[n] x[n]^T and
// dy[n]'s channel sums into its share of dkernel and dbias while dy[n] is in cache.
// requires: computes_per_sample<T>(g); the rest as im2col_conv2d_backward.
// ensures: as im2col_conv2d_backward.
template <class T>
void pointwise_conv2d_backward(const Tensor<T>& x, const Tensor<T>& kernel, const Tensor<T>& dy, Tensor<T>* dx,
                               Tensor<T>* dkernel, Tensor<T>* dbias, const ConvGeometry& g, Im2colWorkspace<T>& ws) {
  const std::int64_t N = dy.dim(0), P = g.out_pixels(), OC = g.out_channels, C = g.channels;
  int threads = 1;
#ifdef _OPENMP
  threads = omp_in_parallel() ? 1 : omp_get_max_threads();
#endif
  const std::int64_t kernel_size = dkernel ? OC * C : 0, part_size = kernel_size + (dbias ? OC : 0);
  ws.kernel_parts.resize(Shape{threads, std::max<std::int64_t>(1, part_size)});
#pragma omp parallel num_threads(threads)
  {
    T* part = ws.kernel_parts.data() + thread_index() * part_size;
    std::fill(part, part + part_size, T(0));
#pragma omp for schedule(static)
    for (std::int64_t n = 0; n < N; ++n) {
      const T* dy_n = dy.data() + n * OC * P;
      if (dx) gemm_serial<T>(true, false, C, P, OC, T(1), kernel.data(), C, dy_n, P, T(0), dx->data() + n * C * P, P);
      if (dkernel) gemm_serial<T>(false, true, OC, C, P, T(1), dy_n, P, x.data() + n * C * P, P, T(1), part, C);
      if (dbias)
        for (std::int64_t oc = 0; oc < OC; ++oc) part[kernel_size + oc] += lane_sum(dy_n + oc * P, P);
    }
    const T* parts = ws.kernel_parts.data();
#pragma omp for schedule(static)
    for (std::int64_t i = 0; i < part_size; ++i) {
      T sum = parts[i];
      for (int t = 1; t < threads; ++t) sum += parts[t * part_size + i];
      (i < kernel_size ? dkernel->data()[i] : (*dbias)[i - kernel_size]) = sum;
    }
  }
}

// requires: x the input of the forward pass; dy [N,OC,OH,OW].
// ensures: each non-null output receives its gradient: dx [N,C,H,W], dkernel
// [OC,C,KH,KW], dbias [OC] (all overwritten).
template <class T>
void im2col_conv2d_backward(const Tensor<T>& x, const Tensor<T>& kernel, const Tensor<T>& dy, Tensor<T>* dx,
                            Tensor<T>* dkernel, Tensor<T>* dbias, const ConvGeometry& g, Im2colWorkspace<T>& ws) {
  if (computes_per_sample<T>(g)) return pointwise_conv2d_backward(x, kernel, dy, dx, dkernel, dbias, g, ws);
  const std::int64_t N = dy.dim(0), P = g.out_pixels(), NP = N * P, OC = g.out_channels, rows = g.patch_size();
  if (!dx && !dkernel) {  // the bias gradient alone (the other paths took dx and dkernel): dy's planes summed
    if (!dbias) return;
#pragma omp parallel for schedule(static)
    for (std::int64_t oc = 0; oc < OC; ++oc) {
      T sum = 0;
      for (std::int64_t n = 0; n < N; ++n) sum += lane_sum(dy.data() + (n * OC + oc) * P, P);
      (*dbias)[oc] = sum;
    }
    return;
  }
  ws.dy_matrix.resize(Shape{OC, NP});
  const T* src = dy.data();
  T* m = ws.dy_matrix.data();
  // dy channel-major, and the bias gradient summed over each channel's row while it is in cache
#pragma omp parallel for schedule(static)
  for (std::int64_t oc = 0; oc < OC; ++oc) {
    T* row = m + oc * NP;
    for (std::int64_t n = 0; n < N; ++n) std::memcpy(row + n * P, src + (n * OC + oc) * P, sizeof(T) * P);
    if (dbias) (*dbias)[oc] = lane_sum(row, NP);
  }
  if (!dx && !dkernel) return;
  const bool in_place = reads_input_in_place<T>(g);
  const std::int32_t* sources = patch_sources(g, ws.patch_sources);  // once per call, for every slab
  const SlabPlan plan(N, rows * P, OC * rows, sizeof(T));
  const std::int64_t per_thread = in_place && !dx ? 1 : rows * plan.size * P, kernel_size = OC * rows;
  // The kernel gradient per slab needs one private copy of it per thread (then summed); when
  // those copies would outweigh the patches (deep layers: many channels, few pixels), it is
  // one threaded GEMM over the whole batch's patches instead, which are small there.
  const bool kernel_by_slab = dkernel && OC * plan.threads * 4 < NP;
  if (dkernel && !kernel_by_slab && in_place) {  // x's [C, P] planes side by side; threads share the OC rows
    const std::int64_t share = (OC + plan.threads - 1) / plan.threads;
#pragma omp parallel for num_threads(plan.threads) schedule(static)
    for (int t = 0; t < plan.threads; ++t) {
      const std::int64_t first = t * share, count = std::min(share, OC - first);
      if (count > 0)
        gemm_grouped<T>(true, count, rows, NP, T(1), m + first * NP, NP, x.data(), P, P, rows * P, T(0),
                        dkernel->data() + first * rows, rows);
    }
    if (!dx) return;
  } else if (dkernel && !kernel_by_slab) {
    ws.whole_batch_patches.resize(Shape{rows, NP});
    T* col = ws.whole_batch_patches.data();
#pragma omp parallel for schedule(static)
    for (std::int64_t n = 0; n < N; ++n)
      im2col_samples(x.data() + n * g.channels * g.in_pixels(), 1, g, col + n * P, NP, sources);
    gemm<T>(false, true, OC, rows, NP, T(1), m, NP, col, NP, T(0), dkernel->data(), rows);
    if (!dx) return;
  }
  // Per slab: its patches -> this thread's share of dkernel; its patch gradients -> dx.
  ws.slabs.resize(Shape{plan.threads, per_thread});
  if (kernel_by_slab) ws.kernel_parts.resize(Shape{plan.threads, kernel_size});
#pragma omp parallel num_threads(plan.threads)
  {
    T* buffer = ws.slabs.data() + thread_index() * per_thread;
    T* part = kernel_by_slab ? ws.kernel_parts.data() + thread_index() * kernel_size : nullptr;
    if (part) std::fill(part, part + kernel_size, T(0));
#pragma omp for schedule(static)
    for (std::int64_t s = 0; s < plan.count; ++s) {
      const std::int64_t first = plan.first(s), samples = plan.samples(s, N), cols = samples * P;
      const T* dy_slab = m + first * P;
      const T* slab_x = x.data() + first * g.channels * g.in_pixels();
      T* slab_dx = dx ? dx->data() + first * g.channels * g.in_pixels() : nullptr;
      if (part && in_place) {  // the slab's [C, P] planes of x side by side
        gemm_grouped<T>(true, OC, rows, cols, T(1), dy_slab, NP, slab_x, P, P, rows * P, T(1), part, rows);
      } else if (part) {
        im2col_samples(slab_x, samples, g, buffer, cols, sources);
        gemm_serial<T>(false, true, OC, rows, cols, T(1), dy_slab, NP, buffer, cols, T(1), part, rows);
      }
      if (dx) {
        gemm_serial<T>(true, false, rows, cols, OC, T(1), kernel.data(), rows, dy_slab, NP, T(0), buffer, cols);
        col2im_samples(buffer, cols, samples, g, slab_dx, sources);
      }
    }
    if (part) {
      const T* parts = ws.kernel_parts.data();
      T* dk = dkernel->data();
#pragma omp for schedule(static)
      for (std::int64_t i = 0; i < kernel_size; ++i) {
        T sum = parts[i];
        for (int t = 1; t < plan.threads; ++t) sum += parts[t * kernel_size + i];
        dk[i] = sum;
      }
    }
  }
}

}  // namespace cpu
}  // namespace tinynet
