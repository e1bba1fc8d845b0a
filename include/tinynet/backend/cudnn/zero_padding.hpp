// tinynet/backend/cudnn/zero_padding.hpp: zero padding of CUDA image planes and its adjoint.
#pragma once

#include "tinynet/backend/conv_geometry.hpp"
#include "tinynet/backend/cudnn/kernels.hpp"
#include "tinynet/backend/cudnn/status.hpp"
#include "tinynet/backend/cudnn/stream.hpp"
#include "tinynet/core/tensor.hpp"

namespace tinynet {
namespace cudnn {

namespace detail {
// ensures: the plane layout of x [N,C,H,W] inside y [N,C,OH,OW] at (p.top, p.left).
template <class T>
kernels::PlanePadding plane_padding(const Tensor<T>& x, const Tensor<T>& y, const ExplicitPadding& p) {
  return {x.dim(0) * x.dim(1), x.dim(2), x.dim(3), y.dim(2), y.dim(3), p.top, p.left};
}
}  // namespace detail

// requires: y a CUDA tensor [N,C,H+top+bottom,W+left+right]. ensures: y = x surrounded by zeros.
template <class T>
void zero_pad2d_forward(const Tensor<T>& x, Tensor<T>& y, const ExplicitPadding& p) {
  check_cuda(kernels::pad_planes(x.data(), y.data(), detail::plane_padding(x, y, p), T(0), current_stream()),
             "zero_pad2d_forward");
}

// requires: dy [N,C,H+top+bottom,W+left+right], dx [N,C,H,W]. ensures: dx = the interior of dy.
template <class T>
void zero_pad2d_backward(const Tensor<T>& dy, Tensor<T>& dx, const ExplicitPadding& p) {
  check_cuda(kernels::crop_planes(dy.data(), dx.data(), detail::plane_padding(dx, dy, p), current_stream()),
             "zero_pad2d_backward");
}

}  // namespace cudnn
}  // namespace tinynet
