// tinynet/backend/cpu/conv2d_whole_plane.hpp: a convolution over an input plane with fewer
// pixels than its kernel has taps, as one GEMM over whole samples.
//
// Layouts: x [N,C,H,W], kernel [OC,C,KH,KW] (OIHW), y [N,OC,OH,OW]. On such a plane most of
// the taps im2col multiplies fall on padding (a 3x3 'same' convolution on a 1x1 plane, as in
// ResNet50's last stage at 32x32 input, uses 1 of its 9). Written as a matrix from a whole
// input sample (C*H*W values, as stored) to a whole output sample (OC*OH*OW values), the
// convolution is
//   y[n, (oc,p)] = sum over (c,q) of x[n, (c,q)] * M[(c,q), (oc,p)],
//   M[(c,q), (oc,p)] = kernel[oc, c, i, j] where input pixel q lies under tap (i,j) of output
//   pixel p, 0 where it lies under none,
// one GEMM of N x (C*H*W) x (OC*OH*OW): C*H*W*OC*OH*OW multiply-adds per sample instead of
// im2col's C*KH*KW*OC*OH*OW, no patch matrix, and x, y, dx, dy used in place. The backward
// passes are dx = dy M^T and dM = x^T dy, folded back onto the taps. M (or dM) is the calling
// thread's scratch. On 2x2 planes it multiplies as much as Winograd F(2x2,3x3)'s single tile
// and builds a larger matrix: slower there, so the measured choice normally keeps Winograd.
#pragma once

#include <algorithm>
#include <cstdint>

#include "tinynet/backend/conv_geometry.hpp"
#include "tinynet/backend/cpu/conv_output_transform.hpp"
#include "tinynet/backend/cpu/gemm.hpp"
#include "tinynet/core/error.hpp"
#include "tinynet/core/tensor.hpp"

namespace tinynet {
namespace cpu {

template <class T>
struct WholePlaneWorkspace {
  Tensor<T> plane_matrix;  // [C*H*W, OC*OH*OW]: M, or dM in the kernel gradient
};

// The largest M the path builds (elements): 2x2 planes of 512 -> 512 channels need 4.2M.
constexpr std::int64_t whole_plane_max_elements = std::int64_t(1) << 24;

// ensures: whether the whole-plane path computes this convolution: an input plane with fewer
// pixels than the kernel has taps, and an M of at most whole_plane_max_elements.
inline bool whole_plane_applies(const ConvGeometry& g) {
  return g.in_pixels() < std::int64_t(g.kernel_h) * g.kernel_w &&
         g.channels * g.in_pixels() * g.out_channels * g.out_pixels() <= whole_plane_max_elements;
}

namespace detail {
// ensures: the tap index i*KW + j of the kernel that joins output pixel p to input pixel q,
// -1 where no tap does.
inline int plane_tap(const ConvGeometry& g, std::int64_t p, std::int64_t q) {
  const std::int64_t i = q / g.in_w - p / g.out_w * g.stride_h + g.pad_top;
  const std::int64_t j = q % g.in_w - p % g.out_w * g.stride_w + g.pad_left;
  return i >= 0 && i < g.kernel_h && j >= 0 && j < g.kernel_w ? static_cast<int>(i * g.kernel_w + j) : -1;
}

inline void check_whole_plane(const char* operation, const ConvGeometry& g) {
  check(whole_plane_applies(g), operation, ": needs an input plane (", g.in_h, "x", g.in_w,
        ") with fewer pixels than the kernel (", g.kernel_h, "x", g.kernel_w, ") has taps and a matrix of at most ",
        whole_plane_max_elements, " elements");
}

// Blocks of the kernel <-> matrix reorders: 8 input channels x 64 output channels of the
// kernel stay in the L1 cache while their entries of M are written or read.
constexpr std::int64_t reorder_channels = 8, reorder_out_channels = 64;

// requires: visit(m_index, k_index): an element of M and the kernel element it holds (-1: none,
// the entry is 0).
// ensures: visit called once per element of M, the entries of one kernel block together;
// blocks of input channels on the OpenMP threads (no two threads touch one input channel).
template <class Visit>
void for_each_plane_tap(const ConvGeometry& g, Visit&& visit) {
  const std::int64_t C = g.channels, HW = g.in_pixels(), OC = g.out_channels, P = g.out_pixels();
  const std::int64_t taps = std::int64_t(g.kernel_h) * g.kernel_w, cols = OC * P;
  const std::int64_t channel_blocks = (C + reorder_channels - 1) / reorder_channels;
#pragma omp parallel for schedule(static)
  for (std::int64_t block = 0; block < channel_blocks; ++block) {
    const std::int64_t c_end = std::min(C, (block + 1) * reorder_channels);
    for (std::int64_t oc_begin = 0; oc_begin < OC; oc_begin += reorder_out_channels) {
      const std::int64_t oc_end = std::min(OC, oc_begin + reorder_out_channels);
      for (std::int64_t c = block * reorder_channels; c < c_end; ++c)
        for (std::int64_t q = 0; q < HW; ++q)
          for (std::int64_t p = 0; p < P; ++p) {
            const int tap = plane_tap(g, p, q);
            for (std::int64_t oc = oc_begin; oc < oc_end; ++oc)
              visit((c * HW + q) * cols + oc * P + p, tap < 0 ? -1 : (oc * C + c) * taps + tap);
          }
    }
  }
}

// ensures: ws.plane_matrix sized [C*H*W, OC*OH*OW] and holding M (see the header).
template <class T>
void build_plane_matrix(const Tensor<T>& kernel, const ConvGeometry& g, WholePlaneWorkspace<T>& ws) {
  ws.plane_matrix.resize(Shape{g.channels * g.in_pixels(), g.out_channels * g.out_pixels()});
  T* const m = ws.plane_matrix.data();
  const T* const k = kernel.data();
  for_each_plane_tap(g, [=](std::int64_t at, std::int64_t from) { m[at] = from < 0 ? T(0) : k[from]; });
}
}  // namespace detail

// requires: whole_plane_applies(g); x [N,C,H,W], kernel [OC,C,KH,KW], y sized [N,OC,OH,OW].
// ensures: y = transform(conv(x, kernel)), per output channel.
template <class T>
void whole_plane_conv2d_forward(const Tensor<T>& x, const Tensor<T>& kernel, Tensor<T>& y, const ConvGeometry& g,
                                WholePlaneWorkspace<T>& ws, const ConvOutputTransform<T>& transform) {
  detail::check_whole_plane("whole_plane_conv2d_forward", g);
  const std::int64_t N = x.dim(0), in = g.channels * g.in_pixels(), P = g.out_pixels(), out = g.out_channels * P;
  detail::build_plane_matrix(kernel, g, ws);
  gemm(false, false, N, out, in, T(1), x.data(), in, ws.plane_matrix.data(), out, T(0), y.data(), out);
  if (!transform.scale && !transform.shift && !transform.relu) return;
  T* const data = y.data();
#pragma omp parallel for schedule(static)
  for (std::int64_t plane = 0; plane < N * g.out_channels; ++plane)
    transform.apply(plane % g.out_channels, data + plane * P, data + plane * P, P);
}

// requires: whole_plane_applies(g); dy [N,OC,OH,OW], kernel [OC,C,KH,KW], dx sized [N,C,H,W].
// ensures: dx = the gradient of the convolution's input (overwritten).
template <class T>
void whole_plane_conv2d_backward_data(const Tensor<T>& dy, const Tensor<T>& kernel, Tensor<T>& dx,
                                      const ConvGeometry& g, WholePlaneWorkspace<T>& ws) {
  detail::check_whole_plane("whole_plane_conv2d_backward_data", g);
  const std::int64_t N = dy.dim(0), in = g.channels * g.in_pixels(), out = g.out_channels * g.out_pixels();
  detail::build_plane_matrix(kernel, g, ws);
  gemm(false, true, N, in, out, T(1), dy.data(), out, ws.plane_matrix.data(), out, T(0), dx.data(), in);
}

// requires: whole_plane_applies(g); x [N,C,H,W], dy [N,OC,OH,OW], dkernel sized [OC,C,KH,KW].
// ensures: dkernel = the gradient of the kernel (overwritten): dM = x^T dy, each entry added
// to the tap that joins its pixels.
template <class T>
void whole_plane_conv2d_backward_kernel(const Tensor<T>& x, const Tensor<T>& dy, Tensor<T>& dkernel,
                                        const ConvGeometry& g, WholePlaneWorkspace<T>& ws) {
  detail::check_whole_plane("whole_plane_conv2d_backward_kernel", g);
  const std::int64_t N = x.dim(0), in = g.channels * g.in_pixels(), out = g.out_channels * g.out_pixels();
  ws.plane_matrix.resize(Shape{in, out});
  gemm(true, false, in, out, N, T(1), x.data(), in, dy.data(), out, T(0), ws.plane_matrix.data(), out);
  const T* const dm = ws.plane_matrix.data();
  T* const dk = dkernel.data();
  dkernel.zero();
  detail::for_each_plane_tap(g, [=](std::int64_t at, std::int64_t to) {
    if (to >= 0) dk[to] += dm[at];
  });
}

}  // namespace cpu
}  // namespace tinynet
