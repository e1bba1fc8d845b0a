// tinynet/backend/device_dispatch.hpp: how a tensor op picks its implementation.
//
// Every op in tinynet/backend/*.hpp takes tensors that live on one device and runs
// the implementation for that device: backend/cpu/* for host tensors, and
// backend/cudnn/* for CUDA tensors when tinynet is built with TINYNET_WITH_CUDNN.
// A model is moved to a device once, so all tensors of a step agree.
#pragma once

#include <initializer_list>
#include <string>

#include "tinynet/core/error.hpp"
#include "tinynet/core/memory.hpp"

namespace tinynet {

#ifdef TINYNET_WITH_CUDNN
constexpr bool cuda_backend_built = true;
// Inside an op: `if (device == Device::cuda) TINYNET_ON_CUDA(cudnn::op(...));`
#define TINYNET_ON_CUDA(...) return __VA_ARGS__
#else
constexpr bool cuda_backend_built = false;
#define TINYNET_ON_CUDA(...) (void)0
#endif

// requires: all devices equal. ensures: that device; an Error naming `op` otherwise,
// or when it is CUDA and the cuDNN backend is not built.
inline Device common_device(const char* op, std::initializer_list<Device> devices) {
  const Device first = *devices.begin();
  for (Device d : devices)
    check(d == first, op, ": tensors on different devices (", device_name(first), " and ", device_name(d), ")");
  check(first == Device::cpu || cuda_backend_built, op,
        ": CUDA tensors given but tinynet was built without -DTINYNET_WITH_CUDNN=ON");
  return first;
}

}  // namespace tinynet
