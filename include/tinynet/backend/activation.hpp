// tinynet/backend/activation.hpp: ReLU and GELU ops, dispatched by device.
//
// relu_forward:  y = max(x, 0).                 relu_backward: dx = dy * (y > 0).
// gelu_forward:  y = x * Phi(x) (exact, erf).   gelu_backward: dx = dy * (Phi(x) + x * phi(x)), from x.
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

template <class T>
void gelu_forward(const Tensor<T>& x, Tensor<T>& y) {
  if (common_device("gelu_forward", {x.device(), y.device()}) == Device::cuda)
    TINYNET_ON_CUDA(cudnn::gelu_forward(x, y));
  cpu::gelu_forward(x, y);
}

template <class T>
void gelu_backward(const Tensor<T>& x, const Tensor<T>& dy, Tensor<T>& dx) {
  if (common_device("gelu_backward", {x.device(), dy.device(), dx.device()}) == Device::cuda)
    TINYNET_ON_CUDA(cudnn::gelu_backward(x, dy, dx));
  cpu::gelu_backward(x, dy, dx);
}

}  // namespace tinynet
