// tinynet/backend/elementwise.hpp: elementwise sums, dispatched by device.
//
// add_forward:      y = a + b.
// add_relu_forward: y = max(a + b, 0), the tail of a residual block in one pass
//                   (backward: relu_backward(y, dy, d(a+b)) from backend/activation.hpp).
//                   For both, y may be a or b (element by element, in place).
// scale_shift:      y = scale * x + offset (Rescaling; its backward is scale_shift(dy, scale, 0)).
#pragma once

#include "tinynet/backend/cpu/elementwise.hpp"
#include "tinynet/backend/device_dispatch.hpp"
#ifdef TINYNET_WITH_CUDNN
#include "tinynet/backend/cudnn/elementwise.hpp"
#endif

namespace tinynet {

template <class T>
void add_forward(const Tensor<T>& a, const Tensor<T>& b, Tensor<T>& y) {
  if (common_device("add_forward", {a.device(), b.device(), y.device()}) == Device::cuda)
    TINYNET_ON_CUDA(cudnn::add_forward(a, b, y));
  cpu::add_forward(a, b, y);
}

template <class T>
void add_relu_forward(const Tensor<T>& a, const Tensor<T>& b, Tensor<T>& y) {
  if (common_device("add_relu_forward", {a.device(), b.device(), y.device()}) == Device::cuda)
    TINYNET_ON_CUDA(cudnn::add_relu_forward(a, b, y));
  cpu::add_relu_forward(a, b, y);
}

template <class T>
void scale_shift(const Tensor<T>& x, T scale, T offset, Tensor<T>& y) {
  if (common_device("scale_shift", {x.device(), y.device()}) == Device::cuda)
    TINYNET_ON_CUDA(cudnn::scale_shift(x, scale, offset, y));
  cpu::scale_shift(x, scale, offset, y);
}

}  // namespace tinynet
