// tinynet/backend/cudnn/pinned_buffer.hpp: a page-locked host staging block for uploads.
//
// Copies from page-locked (pinned) host memory run asynchronously on a stream; copies from
// ordinary memory are staged by the driver and block the host. A PinnedBuffer is filled on
// the host and uploaded with upload_to(); reserve() waits until the previous upload from it
// has finished before handing the block out again, so refilling never races a copy.
#pragma once

#include <cstddef>

#include <cuda_runtime_api.h>

#include "tinynet/backend/cudnn/status.hpp"

namespace tinynet {
namespace cudnn {

class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
  ~PinnedBuffer() {
    if (uploaded_) {
      (void)cudaEventSynchronize(uploaded_);
      (void)cudaEventDestroy(uploaded_);
    }
    if (host_) (void)cudaFreeHost(host_);
  }

  // ensures: a pinned host block of >= bytes whose last upload has completed (grown, old
  // contents dropped, when too small).
  void* reserve(std::size_t bytes) {
    if (uploaded_) check_cuda(cudaEventSynchronize(uploaded_), "PinnedBuffer::reserve: cudaEventSynchronize");
    if (bytes > bytes_) {
      if (host_) check_cuda(cudaFreeHost(host_), "PinnedBuffer::reserve: cudaFreeHost");
      host_ = nullptr;
      bytes_ = 0;
      check_cuda(cudaMallocHost(&host_, bytes), "PinnedBuffer::reserve: cudaMallocHost");
      bytes_ = bytes;
    }
    return host_;
  }

  // requires: bytes <= the last reserve(); device_dst valid for bytes on the device.
  // ensures: the copy queued on `stream`; the next reserve() waits for it.
  void upload_to(void* device_dst, std::size_t bytes, cudaStream_t stream) {
    if (!uploaded_)
      check_cuda(cudaEventCreateWithFlags(&uploaded_, cudaEventDisableTiming), "PinnedBuffer: cudaEventCreate");
    check_cuda(cudaMemcpyAsync(device_dst, host_, bytes, cudaMemcpyHostToDevice, stream),
               "PinnedBuffer::upload_to: cudaMemcpyAsync");
    check_cuda(cudaEventRecord(uploaded_, stream), "PinnedBuffer::upload_to: cudaEventRecord");
  }

 private:
  void* host_ = nullptr;
  std::size_t bytes_ = 0;
  cudaEvent_t uploaded_ = nullptr;
};

}  // namespace cudnn
}  // namespace tinynet
