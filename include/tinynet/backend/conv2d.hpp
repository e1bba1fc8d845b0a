// tinynet/backend/conv2d.hpp: convolution ops, dispatched by device.
//
// conv2d_forward:  y = conv(x, kernel) + bias (bias may be empty).
// conv2d_backward: any of dx, dkernel, dbias (null = not wanted), overwritten.
// Layouts and requirements as in backend/cpu/conv2d.hpp. A ConvWorkspace belongs to
// one layer and carries state from its forward to its backward.
#pragma once

#include "tinynet/backend/conv_geometry.hpp"
#include "tinynet/backend/cpu/conv2d.hpp"
#include "tinynet/backend/device_dispatch.hpp"
#ifdef TINYNET_WITH_CUDNN
#include "tinynet/backend/cudnn/conv2d.hpp"
#endif

namespace tinynet {

template <class T>
struct ConvWorkspace {
  cpu::ConvWorkspace<T> cpu;
#ifdef TINYNET_WITH_CUDNN
  cudnn::ConvState cuda;
#endif
};

template <class T>
void conv2d_forward(const Tensor<T>& x, const Tensor<T>& kernel, const Tensor<T>& bias, Tensor<T>& y,
                    const ConvGeometry& g, ConvWorkspace<T>& ws) {
  if (common_device("conv2d_forward", {x.device(), kernel.device(), y.device()}) == Device::cuda)
    TINYNET_ON_CUDA(cudnn::conv2d_forward(x, kernel, bias, y, g, ws.cuda));
  cpu::conv2d_forward(x, kernel, bias, y, g, ws.cpu);
}

template <class T>
void conv2d_backward(const Tensor<T>& x, const Tensor<T>& kernel, const Tensor<T>& dy, Tensor<T>* dx,
                     Tensor<T>* dkernel, Tensor<T>* dbias, const ConvGeometry& g, ConvWorkspace<T>& ws) {
  if (common_device("conv2d_backward", {x.device(), kernel.device(), dy.device()}) == Device::cuda)
    TINYNET_ON_CUDA(cudnn::conv2d_backward(x, kernel, dy, dx, dkernel, dbias, g, ws.cuda));
  cpu::conv2d_backward(x, kernel, dy, dx, dkernel, dbias, g, ws.cpu);
}

}  // namespace tinynet
