// tinynet/core/memory.hpp: raw storage blocks for tensors.
//
// A Storage is one allocation on one device. Host blocks are 64-byte aligned and
// zero-filled. Device (CUDA) blocks are provided by the cuDNN backend, which
// registers its allocator here; without it, asking for a CUDA block is an Error.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>

#include "tinynet/core/error.hpp"

namespace tinynet {

enum class Device { cpu, cuda };

inline const char* device_name(Device d) { return d == Device::cpu ? "cpu" : "cuda"; }

constexpr std::size_t storage_alignment = 64;

struct Storage {
  void* ptr = nullptr;
  std::size_t bytes = 0;
  Device device = Device::cpu;
  std::function<void(void*)> release;
  Storage() = default;
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  ~Storage() {
    if (ptr && release) release(ptr);
  }
};

// Hooks a device backend fills in (see backend/cudnn/device_memory.hpp).
struct DeviceAllocator {
  std::function<void*(std::size_t)> allocate;        // ensures: zero-filled block of the given size
  std::function<void(void*)> release;
};
inline DeviceAllocator& device_allocator() {
  static DeviceAllocator allocator;
  return allocator;
}

// ensures: a zero-filled block of at least `bytes` bytes on `device`.
inline std::shared_ptr<Storage> allocate_storage(std::size_t bytes, Device device) {
  auto s = std::make_shared<Storage>();
  s->bytes = bytes;
  s->device = device;
  if (bytes == 0) return s;
  if (device == Device::cpu) {
    const std::size_t rounded = (bytes + storage_alignment - 1) / storage_alignment * storage_alignment;
    s->ptr = std::aligned_alloc(storage_alignment, rounded);
    check(s->ptr != nullptr, "allocate_storage: out of host memory allocating ", bytes, " bytes");
    std::memset(s->ptr, 0, rounded);
    s->release = [](void* p) { std::free(p); };
  } else {
    auto& a = device_allocator();
    check(static_cast<bool>(a.allocate),
          "allocate_storage: a CUDA tensor was requested but tinynet was built without the cuDNN backend "
          "(configure with -DTINYNET_WITH_CUDNN=ON)");
    s->ptr = a.allocate(bytes);
    s->release = a.release;
  }
  return s;
}

}  // namespace tinynet
