// tinynet/backend/cudnn/batch_uploader.hpp: DeviceBatchUploader, which copies the next batch to
// the GPU while the current one is being computed.
//
//   DeviceBatchUploader<float> uploader;
//   uploader.stage(host_batch(0));
//   for (k = 0; k < steps; ++k) {
//     const Tensor<float>& x = uploader.take();          // batch k, on the device
//     if (k + 1 < steps) uploader.stage(host_batch(k + 1));  // copied while batch k computes
//     model.forward(x); ...
//   }
//
// stage() copies the host batch into page-locked memory (host work) and queues the upload on
// the uploader's own stream; take() makes the calling thread's compute stream wait for that
// upload (on the device; the host does not block) and returns the device tensor. Two device
// buffers alternate, and an upload into a buffer waits for the compute work queued before it,
// so the batch a model is still using is never overwritten. Use one uploader from one thread.
#pragma once

#include <cstddef>
#include <cstring>

#include <cuda_runtime_api.h>

#include "tinynet/backend/cudnn/device_memory.hpp"
#include "tinynet/backend/cudnn/pinned_buffer.hpp"
#include "tinynet/backend/cudnn/status.hpp"
#include "tinynet/backend/cudnn/stream.hpp"
#include "tinynet/core/error.hpp"
#include "tinynet/core/tensor.hpp"

namespace tinynet {
namespace cudnn {

template <class T>
class DeviceBatchUploader {
 public:
  // ensures: an uploader with its own stream; an Error without a usable device.
  DeviceBatchUploader() : compute_(current_stream()) {
    install_device_allocator();
    check_cuda(cudaStreamCreateWithFlags(&upload_, cudaStreamNonBlocking), "DeviceBatchUploader: cudaStreamCreate");
    for (Slot& s : slots_) {
      check_cuda(cudaEventCreateWithFlags(&s.uploaded, cudaEventDisableTiming), "DeviceBatchUploader: cudaEventCreate");
      check_cuda(cudaEventCreateWithFlags(&s.writable, cudaEventDisableTiming), "DeviceBatchUploader: cudaEventCreate");
    }
  }
  ~DeviceBatchUploader() {
    (void)cudaStreamSynchronize(upload_);
    for (Slot& s : slots_) {
      (void)cudaEventDestroy(s.uploaded);
      (void)cudaEventDestroy(s.writable);
    }
    (void)cudaStreamDestroy(upload_);
  }
  DeviceBatchUploader(const DeviceBatchUploader&) = delete;
  DeviceBatchUploader& operator=(const DeviceBatchUploader&) = delete;

  // requires: a host tensor; no batch staged and not yet taken (both checked).
  // ensures: its upload to the device is queued; the next take() returns it.
  void stage(const Tensor<T>& host_batch) {
    check(host_batch.device() == Device::cpu, "DeviceBatchUploader::stage: expected a host batch, got a ",
          device_name(host_batch.device()), " tensor of shape ", host_batch.shape());
    check(!staged_, "DeviceBatchUploader::stage: the previous batch was staged but not taken");
    Slot& s = slots_[next_];
    const std::size_t bytes = sizeof(T) * static_cast<std::size_t>(host_batch.numel());
    void* pinned = s.pinned.reserve(bytes);  // waits for this slot's previous upload
    if (bytes > 0) std::memcpy(pinned, host_batch.data(), bytes);
    s.device.resize(host_batch.shape(), Device::cuda);
    // The upload waits for everything queued on the compute stream so far: the last use of
    // this buffer (and its allocation's zero fill).
    check_cuda(cudaEventRecord(s.writable, compute_), "DeviceBatchUploader::stage: cudaEventRecord");
    check_cuda(cudaStreamWaitEvent(upload_, s.writable, 0), "DeviceBatchUploader::stage: cudaStreamWaitEvent");
    s.pinned.upload_to(s.device.data(), bytes, upload_);
    check_cuda(cudaEventRecord(s.uploaded, upload_), "DeviceBatchUploader::stage: cudaEventRecord");
    staged_ = true;
  }

  // requires: a staged batch (checked). ensures: its device copy, which ops issued on this
  // thread after the call see complete; valid until the second stage() after this call.
  const Tensor<T>& take() {
    check(staged_, "DeviceBatchUploader::take: no batch staged");
    Slot& s = slots_[next_];
    check_cuda(cudaStreamWaitEvent(compute_, s.uploaded, 0), "DeviceBatchUploader::take: cudaStreamWaitEvent");
    staged_ = false;
    next_ = 1 - next_;
    return s.device;
  }

 private:
  struct Slot {
    Tensor<T> device;
    PinnedBuffer pinned;
    cudaEvent_t uploaded = nullptr, writable = nullptr;
  };

  cudaStream_t compute_;
  cudaStream_t upload_ = nullptr;
  Slot slots_[2];
  int next_ = 0;
  bool staged_ = false;
};

}  // namespace cudnn
}  // namespace tinynet
