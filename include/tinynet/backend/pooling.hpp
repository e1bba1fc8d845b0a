// tinynet/backend/pooling.hpp: pooling ops, dispatched by device.
//
// max_pool2d_forward:  y = window maxima (windows from a ConvGeometry); argmax keeps the
//                      winners for the CPU backward.
// max_pool2d_backward: dx = dy routed to the winning cells (overwritten). x and y are the
//                      forward's input and output (the cuDNN backward needs them).
// global_average_pool_forward/backward: [N,C,H,W] -> [N,C] plane means and their gradient.
// Layouts as in backend/cpu/pooling.hpp.
#pragma once

#include <cstdint>

#include "tinynet/backend/conv_geometry.hpp"
#include "tinynet/backend/cpu/pooling.hpp"
#include "tinynet/backend/device_dispatch.hpp"
#ifdef TINYNET_WITH_CUDNN
#include "tinynet/backend/cudnn/pooling.hpp"
#endif

namespace tinynet {

template <class T>
void max_pool2d_forward(const Tensor<T>& x, Tensor<T>& y, Tensor<std::int32_t>& argmax, const ConvGeometry& g) {
  if (common_device("max_pool2d_forward", {x.device(), y.device()}) == Device::cuda)
    TINYNET_ON_CUDA(cudnn::max_pool2d_forward(x, y, g));
  cpu::max_pool2d_forward(x, y, argmax, g);
}

template <class T>
void max_pool2d_backward(const Tensor<T>& x, const Tensor<T>& y, const Tensor<T>& dy,
                         const Tensor<std::int32_t>& argmax, Tensor<T>& dx, const ConvGeometry& g) {
  if (common_device("max_pool2d_backward", {x.device(), y.device(), dy.device(), dx.device()}) == Device::cuda)
    TINYNET_ON_CUDA(cudnn::max_pool2d_backward(x, y, dy, dx, g));
  cpu::max_pool2d_backward(dy, argmax, dx, g);
}

template <class T>
void global_average_pool_forward(const Tensor<T>& x, Tensor<T>& y) {
  if (common_device("global_average_pool_forward", {x.device(), y.device()}) == Device::cuda)
    TINYNET_ON_CUDA(cudnn::global_average_pool_forward(x, y));
  cpu::global_average_pool_forward(x, y);
}

template <class T>
void global_average_pool_backward(const Tensor<T>& dy, Tensor<T>& dx) {
  if (common_device("global_average_pool_backward", {dy.device(), dx.device()}) == Device::cuda)
    TINYNET_ON_CUDA(cudnn::global_average_pool_backward(dy, dx));
  cpu::global_average_pool_backward(dy, dx);
}

}  // namespace tinynet
