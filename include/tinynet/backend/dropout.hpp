// tinynet/backend/dropout.hpp: inverted dropout ops, dispatched by device.
//
// dropout_forward:  draws a fresh mask (0 or 1/(1-rate) per element) from `rng`, y = x * mask;
//                   element i decided as element first_element + i of a larger batch (a
//                   data-parallel rank's share of the global batch gets the global mask).
// dropout_backward: dx = dy * mask (overwritten).
#pragma once

#include "tinynet/backend/cpu/dropout.hpp"
#include "tinynet/backend/device_dispatch.hpp"
#include "tinynet/core/random.hpp"
#ifdef TINYNET_WITH_CUDNN
#include "tinynet/backend/cudnn/dropout.hpp"
#endif

namespace tinynet {

template <class T>
void dropout_forward(const Tensor<T>& x, double rate, Rng& rng, Tensor<T>& mask, Tensor<T>& y,
                     std::int64_t first_element = 0) {
  if (common_device("dropout_forward", {x.device(), mask.device(), y.device()}) == Device::cuda)
    TINYNET_ON_CUDA(cudnn::dropout_forward(x, rate, rng, mask, y, first_element));
  cpu::dropout_forward(x, rate, rng, mask, y, first_element);
}

template <class T>
void dropout_backward(const Tensor<T>& mask, const Tensor<T>& dy, Tensor<T>& dx) {
  if (common_device("dropout_backward", {mask.device(), dy.device(), dx.device()}) == Device::cuda)
    TINYNET_ON_CUDA(cudnn::dropout_backward(mask, dy, dx));
  cpu::dropout_backward(mask, dy, dx);
}

}  // namespace tinynet
