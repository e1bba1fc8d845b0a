// tinynet/backend/cudnn/device_memory.hpp: the caching allocator behind CUDA tensors.
//
// cudaMalloc and cudaFree synchronise the device and cost far more than a training step's
// kernels, so device blocks are never returned to CUDA while the process runs: a released
// block goes to a free list keyed by (stream, size bucket) and the next request of that
// bucket from that stream takes it back. Reuse is stream-ordered: a block is only handed out
// again on the stream that released it, after the work already queued there. Sizes are
// rounded up to a power of two (at least 512 bytes) below 1 MiB and to a multiple of 2 MiB
// above, so stable shapes hit their bucket exactly. Only when cudaMalloc runs out of memory
// are the cached free blocks given back (cudaFree) and the allocation retried.
//
// Including this header registers the allocator in core/memory.hpp's DeviceAllocator hook
// (install_device_allocator(), also callable explicitly), which is how
// Tensor<T>(shape, Device::cuda) gets its storage. copy_bytes() copies between devices.
#pragma once

#include <cstddef>
#include <cstring>
#include <map>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include <cuda_runtime_api.h>

#include "tinynet/backend/cudnn/status.hpp"
#include "tinynet/backend/cudnn/stream.hpp"
#include "tinynet/core/error.hpp"
#include "tinynet/core/memory.hpp"

namespace tinynet {
namespace cudnn {

class CachingDeviceAllocator {
 public:
  struct Stats {
    std::size_t in_use_bytes = 0;  // held by live blocks (bucket sizes)
    std::size_t cached_bytes = 0;  // in the free lists
    std::size_t device_allocations = 0;  // cudaMalloc calls so far
  };

  // ensures: the bucket a request of `bytes` is served from (>= bytes).
  static std::size_t bucket_size(std::size_t bytes) {
    constexpr std::size_t smallest = 512, small_limit = std::size_t(1) << 20, granule = std::size_t(2) << 20;
    if (bytes <= smallest) return smallest;
    if (bytes <= small_limit) {
      std::size_t size = smallest;
      while (size < bytes) size *= 2;
      return size;
    }
    return (bytes + granule - 1) / granule * granule;
  }

  // requires: bytes > 0. ensures: a zero-filled device block of >= bytes, ordered on this
  // thread's stream (the zero fill is queued there); an Error when the device is out of memory.
  void* allocate(std::size_t bytes) {
    const cudaStream_t stream = current_stream();
    const std::size_t size = bucket_size(bytes);
    void* ptr = take_cached(stream, size);
    if (!ptr) ptr = allocate_new(stream, size);
    check_cuda(cudaMemsetAsync(ptr, 0, size, stream), "device allocator: cudaMemsetAsync");
    return ptr;
  }

  // ensures: the block is back in its free list (never thrown: called from destructors);
  // pointers this allocator did not hand out are ignored.
  void release(void* ptr) noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = live_.find(ptr);
    if (it == live_.end()) return;
    free_[{it->second.stream, it->second.size}].push_back(ptr);
    stats_.in_use_bytes -= it->second.size;
    stats_.cached_bytes += it->second.size;
    live_.erase(it);
  }

  Stats stats() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
  }

 private:
  struct Block {
    cudaStream_t stream;
    std::size_t size;
  };

  void* take_cached(cudaStream_t stream, std::size_t size) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = free_.find({stream, size});
    if (it == free_.end() || it->second.empty()) return nullptr;
    void* ptr = it->second.back();
    it->second.pop_back();
    live_[ptr] = {stream, size};
    stats_.cached_bytes -= size;
    stats_.in_use_bytes += size;
    return ptr;
  }

  void* allocate_new(cudaStream_t stream, std::size_t size) {
    void* ptr = nullptr;
    cudaError_t status = cudaMalloc(&ptr, size);
    if (status == cudaErrorMemoryAllocation) {
      (void)cudaGetLastError();
      release_cached_blocks();
      status = cudaMalloc(&ptr, size);
    }
    if (status == cudaErrorMemoryAllocation) {
      (void)cudaGetLastError();
      const Stats s = stats();
      fail("device allocator: out of CUDA memory allocating ", size, " bytes (", s.in_use_bytes,
           " bytes held by live tensors)");
    }
    check_cuda(status, "device allocator: cudaMalloc");
    std::lock_guard<std::mutex> lock(mutex_);
    live_[ptr] = {stream, size};
    stats_.in_use_bytes += size;
    ++stats_.device_allocations;
    return ptr;
  }

  // ensures: every cached free block returned to CUDA (cudaFree waits for the device).
  void release_cached_blocks() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& bucket : free_)
      for (void* ptr : bucket.second) (void)cudaFree(ptr);
    free_.clear();
    stats_.cached_bytes = 0;
  }

  mutable std::mutex mutex_;
  std::unordered_map<void*, Block> live_;
  std::map<std::pair<cudaStream_t, std::size_t>, std::vector<void*>> free_;
  Stats stats_;
};

// ensures: the process-wide allocator. Never destroyed: tensors may be released during exit.
inline CachingDeviceAllocator& caching_device_allocator() {
  static CachingDeviceAllocator* allocator = new CachingDeviceAllocator();
  return *allocator;
}

// ensures: CUDA tensors get their storage from caching_device_allocator() (idempotent; makes
// no CUDA call, so it is safe on machines without a GPU).
inline void install_device_allocator() {
  DeviceAllocator& hook = device_allocator();
  if (hook.allocate) return;
  hook.allocate = [](std::size_t bytes) { return caching_device_allocator().allocate(bytes); };
  hook.release = [](void* ptr) { caching_device_allocator().release(ptr); };
}

namespace detail {
// Registers the allocator during static initialisation of any program including this header.
inline const bool device_allocator_registered = (install_device_allocator(), true);
}  // namespace detail

// requires: dst and src valid for `bytes` bytes on the named devices.
// ensures: the bytes copied; when a host side is involved the copy has finished on return,
// a device-to-device copy is queued on this thread's stream.
inline void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, std::size_t bytes) {
  if (bytes == 0) return;
  if (dst_device == Device::cpu && src_device == Device::cpu) {
    std::memcpy(dst, src, bytes);
    return;
  }
  const cudaStream_t stream = current_stream();
  const cudaMemcpyKind kind = src_device == Device::cpu   ? cudaMemcpyHostToDevice
                              : dst_device == Device::cpu ? cudaMemcpyDeviceToHost
                                                          : cudaMemcpyDeviceToDevice;
  check_cuda(cudaMemcpyAsync(dst, src, bytes, kind, stream), "copy_bytes: cudaMemcpyAsync");
  if (kind != cudaMemcpyDeviceToDevice) check_cuda(cudaStreamSynchronize(stream), "copy_bytes: cudaStreamSynchronize");
}

}  // namespace cudnn
}  // namespace tinynet
