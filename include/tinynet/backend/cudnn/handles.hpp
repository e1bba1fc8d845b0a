// tinynet/backend/cudnn/handles.hpp: each thread's cuDNN and cuBLAS handles and scratch space.
//
// CudaHandles::current() creates, on a thread's first CUDA op, a cuDNN handle and a cuBLAS
// handle bound to that thread's stream (stream.hpp), and owns three grow-only device scratch
// blocks that an op may use while it runs (convolution workspaces, padded copies, gradients a
// caller did not ask for). Like the streams, the handles live until the process exits.
// Math mode: strict FP32 by default (cuDNN FMA math, cuBLAS default math), so results track the
// CPU backend to ~1e-5; set TINYNET_CUDA_TF32=1 to allow TF32 tensor cores (faster on
// Ampere and later, ~1e-3 relative error in convolutions and GEMMs).
#pragma once

#include <cstddef>
#include <cstdlib>
#include <cstring>

#include <cublas_v2.h>
#include <cudnn.h>

#include "tinynet/backend/cudnn/device_memory.hpp"
#include "tinynet/backend/cudnn/status.hpp"
#include "tinynet/backend/cudnn/stream.hpp"
#include "tinynet/core/memory.hpp"
#include "tinynet/core/tensor.hpp"

namespace tinynet {
namespace cudnn {

// ensures: whether TF32 tensor-core math is allowed (environment TINYNET_CUDA_TF32=1), read once.
inline bool tf32_allowed() {
  static const bool allowed = [] {
    const char* value = std::getenv("TINYNET_CUDA_TF32");
    return value != nullptr && std::strcmp(value, "1") == 0;
  }();
  return allowed;
}

// The scratch blocks of a thread; an op uses distinct slots for buffers it needs at once.
enum class Scratch { workspace, primary, secondary };

class CudaHandles {
 public:
  // ensures: this thread's handles (created on the first call); an Error without a device.
  static CudaHandles& current() {
    thread_local CudaHandles* handles = new CudaHandles();  // never destroyed, see the header comment
    return *handles;
  }

  cudaStream_t stream() const { return stream_; }
  cudnnHandle_t cudnn() const { return cudnn_; }
  cublasHandle_t cublas() const { return cublas_; }

  // ensures: a device block of >= bytes for the op now running on this thread, valid until the
  // next call with the same slot; contents unspecified. Grows by at least half when too small.
  void* scratch(Scratch slot, std::size_t bytes) {
    Tensor<unsigned char>& block = scratch_[static_cast<int>(slot)];
    if (static_cast<std::size_t>(block.numel()) < bytes) {
      const std::size_t grown = static_cast<std::size_t>(block.numel()) * 3 / 2;
      block.resize(Shape{static_cast<std::int64_t>(bytes > grown ? bytes : grown)}, Device::cuda);
    }
    return block.data();
  }

  CudaHandles(const CudaHandles&) = delete;
  CudaHandles& operator=(const CudaHandles&) = delete;

 private:
  CudaHandles() : stream_(current_stream()) {
    install_device_allocator();
    check_cudnn(cudnnCreate(&cudnn_), "CudaHandles: cudnnCreate");
    check_cudnn(cudnnSetStream(cudnn_, stream_), "CudaHandles: cudnnSetStream");
    check_cublas(cublasCreate(&cublas_), "CudaHandles: cublasCreate");
    check_cublas(cublasSetStream(cublas_, stream_), "CudaHandles: cublasSetStream");
    check_cublas(cublasSetMathMode(cublas_, tf32_allowed() ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH),
                 "CudaHandles: cublasSetMathMode");
  }

  cudaStream_t stream_;
  cudnnHandle_t cudnn_ = nullptr;
  cublasHandle_t cublas_ = nullptr;
  Tensor<unsigned char> scratch_[3];
};

}  // namespace cudnn
}  // namespace tinynet
