// tinynet/backend/dense.hpp: fully connected ops, dispatched by device.
//
// dense_forward:  y = x * kernel + bias   (x [N,IN], kernel [IN,OUT], bias empty or [OUT]).
// dense_backward: any of dx, dkernel, dbias (null = not wanted), overwritten.
#pragma once

#include "tinynet/backend/cpu/dense.hpp"
#include "tinynet/backend/device_dispatch.hpp"
#ifdef TINYNET_WITH_CUDNN
#include "tinynet/backend/cudnn/dense.hpp"
#endif

namespace tinynet {

template <class T>
void dense_forward(const Tensor<T>& x, const Tensor<T>& kernel, const Tensor<T>& bias, Tensor<T>& y) {
  if (common_device("dense_forward", {x.device(), kernel.device(), y.device()}) == Device::cuda)
    TINYNET_ON_CUDA(cudnn::dense_forward(x, kernel, bias, y));
  cpu::dense_forward(x, kernel, bias, y);
}

template <class T>
void dense_backward(const Tensor<T>& x, const Tensor<T>& kernel, const Tensor<T>& dy, Tensor<T>* dx,
                    Tensor<T>* dkernel, Tensor<T>* dbias) {
  if (common_device("dense_backward", {x.device(), kernel.device(), dy.device()}) == Device::cuda)
    TINYNET_ON_CUDA(cudnn::dense_backward(x, kernel, dy, dx, dkernel, dbias));
  cpu::dense_backward(x, kernel, dy, dx, dkernel, dbias);
}

}  // namespace tinynet
