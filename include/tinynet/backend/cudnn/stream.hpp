// tinynet/backend/cudnn/stream.hpp: the CUDA stream each host thread computes on.
//
// Every op of the backend runs on the calling thread's stream (created on first use,
// non-blocking with respect to the legacy default stream), so the ops of one thread
// execute in the order they were issued and a device buffer released by that thread can be
// reused by it without synchronising. Streams live until the process exits.
#pragma once

#include <string>

#include <cuda_runtime_api.h>

#include "tinynet/backend/cudnn/status.hpp"
#include "tinynet/core/error.hpp"

namespace tinynet {
namespace cudnn {

// ensures: "" when a CUDA device is usable (cudaGetDeviceCount() > 0), otherwise the reason,
// e.g. no driver or no device (never throws; for skips and error messages).
inline std::string cuda_unavailable_reason() {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    (void)cudaGetLastError();
    return std::string("cudaGetDeviceCount failed: ") + cudaGetErrorString(status);
  }
  return count > 0 ? "" : "cudaGetDeviceCount() == 0";
}

// ensures: this thread's stream (created on the first call); an Error when no device is usable.
inline cudaStream_t current_stream() {
  thread_local cudaStream_t stream = [] {
    const std::string why = cuda_unavailable_reason();
    check(why.empty(), "tinynet CUDA backend: no usable CUDA device (", why, ")");
    cudaStream_t created = nullptr;
    check_cuda(cudaStreamCreateWithFlags(&created, cudaStreamNonBlocking), "current_stream: cudaStreamCreateWithFlags");
    return created;
  }();
  return stream;
}

}  // namespace cudnn
}  // namespace tinynet
