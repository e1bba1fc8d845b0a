// tinynet/backend/zero_padding.hpp: zero-padding ops, dispatched by device.
//
// zero_pad2d_forward:  y = x with `p` rows/columns of zeros around each plane.
// zero_pad2d_backward: dx = the interior of dy (overwritten).
#pragma once

#include "tinynet/backend/conv_geometry.hpp"
#include "tinynet/backend/cpu/zero_padding.hpp"
#include "tinynet/backend/device_dispatch.hpp"
#ifdef TINYNET_WITH_CUDNN
#include "tinynet/backend/cudnn/zero_padding.hpp"
#endif

namespace tinynet {

template <class T>
void zero_pad2d_forward(const Tensor<T>& x, Tensor<T>& y, const ExplicitPadding& p) {
  if (common_device("zero_pad2d_forward", {x.device(), y.device()}) == Device::cuda)
    TINYNET_ON_CUDA(cudnn::zero_pad2d_forward(x, y, p));
  cpu::zero_pad2d_forward(x, y, p);
}

template <class T>
void zero_pad2d_backward(const Tensor<T>& dy, Tensor<T>& dx, const ExplicitPadding& p) {
  if (common_device("zero_pad2d_backward", {dy.device(), dx.device()}) == Device::cuda)
    TINYNET_ON_CUDA(cudnn::zero_pad2d_backward(dy, dx, p));
  cpu::zero_pad2d_backward(dy, dx, p);
}

}  // namespace tinynet
