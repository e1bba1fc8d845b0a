// tinynet/backend/device_copy.hpp: copying tensors between host and device memory.
//
// copy_elements() copies the elements of one tensor into another of the same size, on any
// pair of devices; to_device() returns a copy on a chosen device. Both work in CPU-only
// builds too, where any CUDA tensor is an Error saying the backend is not built. Copies that
// touch host memory have finished when they return; device-to-device copies are queued on
// the calling thread's stream, ordered before the ops issued after them.
#pragma once

#include <algorithm>
#include <cstddef>

#include "tinynet/backend/device_dispatch.hpp"
#include "tinynet/core/error.hpp"
#include "tinynet/core/memory.hpp"
#include "tinynet/core/tensor.hpp"
#ifdef TINYNET_WITH_CUDNN
#include "tinynet/backend/cudnn/device_memory.hpp"
#endif

namespace tinynet {

// requires: src.numel() == dst.numel() (checked). ensures: dst's elements = src's (shapes may differ).
template <class T>
void copy_elements(const Tensor<T>& src, Tensor<T>& dst) {
  check(src.numel() == dst.numel(), "copy_elements: source ", src.shape(), " (", device_name(src.device()),
        ") and destination ", dst.shape(), " (", device_name(dst.device()), ") differ in size");
  if (src.device() == Device::cpu && dst.device() == Device::cpu) {
    std::copy(src.begin(), src.end(), dst.begin());
    return;
  }
  check(cuda_backend_built, "copy_elements: a CUDA tensor was given but tinynet was built without "
        "-DTINYNET_WITH_CUDNN=ON");
#ifdef TINYNET_WITH_CUDNN
  cudnn::copy_bytes(dst.data(), dst.device(), src.data(), src.device(),
                    sizeof(T) * static_cast<std::size_t>(src.numel()));
#endif
}

// ensures: an independent copy of x (same shape) on `device`.
template <class T>
Tensor<T> to_device(const Tensor<T>& x, Device device) {
  Tensor<T> copy(x.shape(), device);
  copy_elements(x, copy);
  return copy;
}

}  // namespace tinynet
