// tinynet/backend/activation.hpp: ReLU ops, dispatched by device.
//
// relu_forward:  y = max(x, 0).      relu_backward: dx = dy * (y > 0).
#pragma once

#include "tinynet/backend/cpu/activation.hpp"
#include "tinynet/backend/device_dispatch.hpp"
#ifdef TINYNET_WITH_CUDNN
#include "tinynet/backend/cudnn/activation.hpp"
#endif

namespace tinynet {

template <class T>
void relu_forward(const Tensor<T>& x, Tensor<T>& y) {
  if (common_device("relu_forward", {x.device(), y.device()}) == Device::cuda)
    TINYNET_ON_CUDA(cudnn::relu_forward(x, y));
  cpu::relu_forward(x, y);
}

template <class T>
void relu_backward(const Tensor<T>& y, const Tensor<T>& dy, Tensor<T>& dx) {
  if (common_device("relu_backward", {y.device(), dy.device(), dx.device()}) == Device::cuda)
    TINYNET_ON_CUDA(cudnn::relu_backward(y, dy, dx));
  cpu::relu_backward(y, dy, dx);
}

}  // namespace tinynet
