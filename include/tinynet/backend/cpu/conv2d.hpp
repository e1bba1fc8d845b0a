// tinynet/backend/cpu/conv2d.hpp: whole-batch convolution as im2col + one GEMM.
//
// Layouts: x [N,C,H,W], kernel [OC,C,KH,KW] (OIHW), y [N,OC,OH,OW]. The im2col
// matrix `col` is [C*KH*KW, N*OH*OW] for the whole batch, so each pass is a single
// GEMM over the batch. forward() leaves `col` in the workspace; backward() reuses it
// for the kernel gradient, so it must follow the forward() of the same batch.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "tinynet/backend/conv_geometry.hpp"
#include "tinynet/backend/cpu/gemm.hpp"
#include "tinynet/core/tensor.hpp"

namespace tinynet {
namespace cpu {

template <class T>
struct ConvWorkspace {
  Tensor<T> col;  // [C*KH*KW, N*OH*OW] patches of the last forward batch
  Tensor<T> mat;  // [OC, N*OH*OW] GEMM output / reordered output gradient
  Tensor<T> dcol; // [C*KH*KW, N*OH*OW] patch gradients
};

// ensures: col[(c*KH+i)*KW+j, n*P + oh*OW+ow] = x[n,c,oh*sh-pt+i,ow*sw-pl+j] (0 outside).
template <class T>
void im2col(const T* x, std::int64_t batch, const ConvGeometry& g, T* col) {
  const std::int64_t rows = g.patch_size(), P = g.out_pixels(), NP = batch * P;
#pragma omp parallel for collapse(2) schedule(static)
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t n = 0; n < batch; ++n) {
      const std::int64_t c = r / (g.kernel_h * g.kernel_w);
      const int i = static_cast<int>(r / g.kernel_w % g.kernel_h), j = static_cast<int>(r % g.kernel_w);
      const T* plane = x + (n * g.channels + c) * g.in_pixels();
      T* out = col + r * NP + n * P;
      for (std::int64_t oh = 0; oh < g.out_h; ++oh) {
        const std::int64_t ih = oh * g.stride_h - g.pad_top + i;
        T* row = out + oh * g.out_w;
        if (ih < 0 || ih >= g.in_h) {
          std::fill(row, row + g.out_w, T(0));
          continue;
        }
        const T* src = plane + ih * g.in_w;
        if (g.stride_w == 1) {
          // iw = ow - pl + j: contiguous, with zero borders
          const std::int64_t lo = std::clamp<std::int64_t>(g.pad_left - j, 0, g.out_w);
          const std::int64_t hi = std::clamp<std::int64_t>(g.in_w + g.pad_left - j, lo, g.out_w);
          std::fill(row, row + lo, T(0));
          std::memcpy(row + lo, src + lo - g.pad_left + j, sizeof(T) * (hi - lo));
          std::fill(row + hi, row + g.out_w, T(0));
        } else {
          for (std::int64_t ow = 0; ow < g.out_w; ++ow) {
            const std::int64_t iw = ow * g.stride_w - g.pad_left + j;
            row[ow] = (iw >= 0 && iw < g.in_w) ? src[iw] : T(0);
          }
        }
      }
    }
  }
}

// ensures: dx = sum of the patch gradients dcol scattered back (the adjoint of im2col).
template <class T>
void col2im(const T* dcol, std::int64_t batch, const ConvGeometry& g, T* dx) {
  const std::int64_t P = g.out_pixels(), NP = batch * P;
#pragma omp parallel for collapse(2) schedule(static)
  for (std::int64_t n = 0; n < batch; ++n) {
    for (std::int64_t c = 0; c < g.channels; ++c) {
      T* plane = dx + (n * g.channels + c) * g.in_pixels();
      std::fill(plane, plane + g.in_pixels(), T(0));
      for (int i = 0; i < g.kernel_h; ++i) {
        for (int j = 0; j < g.kernel_w; ++j) {
          const T* src = dcol + ((c * g.kernel_h + i) * g.kernel_w + j) * NP + n * P;
          for (std::int64_t oh = 0; oh < g.out_h; ++oh) {
            const std::int64_t ih = oh * g.stride_h - g.pad_top + i;
            if (ih < 0 || ih >= g.in_h) continue;
            T* dst = plane + ih * g.in_w;
            const T* s = src + oh * g.out_w;
            if (g.stride_w == 1) {
              const std::int64_t lo = std::clamp<std::int64_t>(g.pad_left - j, 0, g.out_w);
              const std::int64_t hi = std::clamp<std::int64_t>(g.in_w + g.pad_left - j, lo, g.out_w);
              T* d = dst - g.pad_left + j;
              for (std::int64_t ow = lo; ow < hi; ++ow) d[ow] += s[ow];
            } else {
              for (std::int64_t ow = 0; ow < g.out_w; ++ow) {
                const std::int64_t iw = ow * g.stride_w - g.pad_left + j;
                if (iw >= 0 && iw < g.in_w) dst[iw] += s[ow];
              }
            }
          }
        }
      }
    }
  }
}

// requires: x [N,C,H,W], kernel [OC,C,KH,KW], bias empty or [OC], y sized [N,OC,OH,OW].
// ensures: y = conv(x, kernel) + bias; ws.col holds the patches of x.
template <class T>
void conv2d_forward(const Tensor<T>& x, const Tensor<T>& kernel, const Tensor<T>& bias, Tensor<T>& y,
                    const ConvGeometry& g, ConvWorkspace<T>& ws) {
  const std::int64_t N = x.dim(0), P = g.out_pixels(), NP = N * P, OC = g.out_channels;
  ws.col.resize(Shape{g.patch_size(), NP});
  ws.mat.resize(Shape{OC, NP});
  im2col(x.data(), N, g, ws.col.data());
  gemm<T>(false, false, OC, NP, g.patch_size(), T(1), kernel.data(), g.patch_size(), ws.col.data(), NP, T(0),
          ws.mat.data(), NP);
  const T* m = ws.mat.data();
  const T* b = bias.empty() ? nullptr : bias.data();
  T* out = y.data();
#pragma omp parallel for collapse(2) schedule(static)
  for (std::int64_t n = 0; n < N; ++n) {
    for (std::int64_t oc = 0; oc < OC; ++oc) {
      const T* src = m + oc * NP + n * P;
      T* dst = out + (n * OC + oc) * P;
      const T add = b ? b[oc] : T(0);
      for (std::int64_t p = 0; p < P; ++p) dst[p] = src[p] + add;
    }
  }
}

// requires: the forward() of this batch ran with `ws`; dy [N,OC,OH,OW].
// ensures: each non-null output receives its gradient: dx [N,C,H,W], dkernel
// [OC,C,KH,KW], dbias [OC] (all overwritten).
template <class T>
void conv2d_backward(const Tensor<T>& kernel, const Tensor<T>& dy, Tensor<T>* dx, Tensor<T>* dkernel,
                     Tensor<T>* dbias, const ConvGeometry& g, ConvWorkspace<T>& ws) {
  const std::int64_t N = dy.dim(0), P = g.out_pixels(), NP = N * P, OC = g.out_channels;
  ws.mat.resize(Shape{OC, NP});
  const T* src = dy.data();
  T* m = ws.mat.data();
#pragma omp parallel for collapse(2) schedule(static)
  for (std::int64_t oc = 0; oc < OC; ++oc)
    for (std::int64_t n = 0; n < N; ++n) std::memcpy(m + oc * NP + n * P, src + (n * OC + oc) * P, sizeof(T) * P);
  if (dbias) {
    T* db = dbias->data();
#pragma omp parallel for schedule(static)
    for (std::int64_t oc = 0; oc < OC; ++oc) {
      T s = 0;
      for (std::int64_t q = 0; q < NP; ++q) s += m[oc * NP + q];
      db[oc] = s;
    }
  }
  if (dkernel)
    gemm<T>(false, true, OC, g.patch_size(), NP, T(1), m, NP, ws.col.data(), NP, T(0), dkernel->data(),
            g.patch_size());
  if (dx) {
    ws.dcol.resize(Shape{g.patch_size(), NP});
    gemm<T>(true, false, g.patch_size(), NP, OC, T(1), kernel.data(), g.patch_size(), m, NP, T(0), ws.dcol.data(),
            NP);
    col2im(ws.dcol.data(), N, g, dx->data());
  }
}

}  // namespace cpu
}  // namespace tinynet
