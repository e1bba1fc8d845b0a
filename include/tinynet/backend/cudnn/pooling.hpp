// tinynet/backend/cudnn/pooling.hpp: max pooling and global average pooling on CUDA tensors.
//
// Max pooling forward: cudnnPoolingForward. cuDNN pads symmetrically, and TensorFlow's 'same'
// may not, so a padded pooling first copies x into planes surrounded by -infinity (padded
// cells never win, as on the CPU) and pools that copy without padding.
// Max pooling backward: an own kernel that recomputes each window's first maximum from x and
// routes dy there, the CPU backend's tie rule (windows of equal values are common after
// ReLU + BatchNorm; cuDNN's choice among ties is unspecified), summed deterministically.
// Global average pooling: a cuDNN average-pooling window covering the plane; backward by kernel.
#pragma once

#include <cstdint>
#include <limits>

#include "tinynet/backend/conv_geometry.hpp"
#include "tinynet/backend/cudnn/descriptors.hpp"
#include "tinynet/backend/cudnn/handles.hpp"
#include "tinynet/backend/cudnn/kernels.hpp"
#include "tinynet/backend/cudnn/status.hpp"
#include "tinynet/core/error.hpp"
#include "tinynet/core/tensor.hpp"

namespace tinynet {
namespace cudnn {

namespace detail {
struct PoolingDescriptors {
  PoolingDescriptor window;
  TensorDescriptor x, y;
};

// ensures: cudnnPoolingForward of x [N,C,H,W] (device pointer) into y [N,C,OH,OW] with an
// unpadded (kh, kw) window and strides (sh, sw); an Error naming `op` when cuDNN's output
// shape differs from [N,C,OH,OW].
template <class T>
void pool_unpadded(const char* op, cudnnPoolingMode_t mode, const T* x, std::int64_t N, std::int64_t C,
                   std::int64_t H, std::int64_t W, int kh, int kw, int sh, int sw, T* y, std::int64_t OH,
                   std::int64_t OW) {
  CudaHandles& h = CudaHandles::current();
  thread_local PoolingDescriptors d;
  describe_pooling(d.window, mode, kh, kw, sh, sw);
  describe_tensor<T>(d.x, N, C, H, W);
  describe_tensor<T>(d.y, N, C, OH, OW);
  int n = 0, c = 0, oh = 0, ow = 0;
  check_cudnn(cudnnGetPooling2dForwardOutputDim(d.window.get(), d.x.get(), &n, &c, &oh, &ow),
              "cudnnGetPooling2dForwardOutputDim");
  check(n == N && c == C && oh == OH && ow == OW, op, " (CUDA): cuDNN pools [", N, ",", C, ",", H, ",", W,
        "] to [", n, ",", c, ",", oh, ",", ow, "], expected [", N, ",", C, ",", OH, ",", OW, "]");
  check_cudnn(cudnnPoolingForward(h.cudnn(), d.window.get(), Blend<T>::one(), d.x.get(), x, Blend<T>::zero(),
                                  d.y.get(), y),
              op);
}
}  // namespace detail

// requires: CUDA tensors x [N,C,H,W] matching g, y [N,C,OH,OW].
// ensures: y = window maxima over in-image cells.
template <class T>
void max_pool2d_forward(const Tensor<T>& x, Tensor<T>& y, const ConvGeometry& g) {
  const std::int64_t N = x.dim(0);
  const bool padded = g.pad_top || g.pad_bottom || g.pad_left || g.pad_right;
  if (!padded) {
    detail::pool_unpadded("max_pool2d_forward", CUDNN_POOLING_MAX, x.data(), N, g.channels, g.in_h, g.in_w,
                          g.kernel_h, g.kernel_w, g.stride_h, g.stride_w, y.data(), g.out_h, g.out_w);
    return;
  }
  const kernels::PlanePadding p{N * g.channels,
                                g.in_h,
                                g.in_w,
                                g.in_h + g.pad_top + g.pad_bottom,
                                g.in_w + g.pad_left + g.pad_right,
                                g.pad_top,
                                g.pad_left};
  CudaHandles& h = CudaHandles::current();
  T* surrounded = static_cast<T*>(h.scratch(Scratch::primary, sizeof(T) * p.planes * p.out_h * p.out_w));
  check_cuda(kernels::pad_planes(x.data(), surrounded, p, -std::numeric_limits<T>::infinity(), h.stream()),
             "max_pool2d_forward: padding");
  detail::pool_unpadded("max_pool2d_forward", CUDNN_POOLING_MAX, surrounded, N, g.channels, p.out_h, p.out_w,
                        g.kernel_h, g.kernel_w, g.stride_h, g.stride_w, y.data(), g.out_h, g.out_w);
}

// requires: x the forward's input, dy [N,C,OH,OW], dx [N,C,H,W] (CUDA tensors); the forward's
// output is not needed (the winners are recomputed from x).
// ensures: dx = dy routed to each window's first maximum (overwritten).
template <class T>
void max_pool2d_backward(const Tensor<T>& x, const Tensor<T>& /*y*/, const Tensor<T>& dy, Tensor<T>& dx,
                         const ConvGeometry& g) {
  check_cuda(kernels::max_pool2d_backward(x.data(), dy.data(), dx.data(), x.dim(0), g, current_stream()),
             "max_pool2d_backward");
}

// requires: CUDA tensors x [N,C,H,W] (H*W >= 1), y [N,C]. ensures: y[n,c] = mean of plane (n,c).
template <class T>
void global_average_pool_forward(const Tensor<T>& x, Tensor<T>& y) {
  const int h = to_int(x.dim(2), "global_average_pool_forward"), w = to_int(x.dim(3), "global_average_pool_forward");
  detail::pool_unpadded("global_average_pool_forward", CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING, x.data(),
                        x.dim(0), x.dim(1), h, w, h, w, 1, 1, y.data(), 1, 1);
}

// requires: dy [N,C], dx [N,C,H,W] (CUDA tensors). ensures: dx[n,c,h,w] = dy[n,c] / (H*W).
template <class T>
void global_average_pool_backward(const Tensor<T>& dy, Tensor<T>& dx) {
  check_cuda(kernels::plane_mean_backward(dy.data(), dx.data(), dx.dim(0) * dx.dim(1), dx.dim(2) * dx.dim(3),
                                          current_stream()),
             "global_average_pool_backward");
}

}  // namespace cudnn
}  // namespace tinynet
