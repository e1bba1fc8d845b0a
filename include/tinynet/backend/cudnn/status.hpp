// tinynet/backend/cudnn/status.hpp: CUDA, cuDNN and cuBLAS status codes as tinynet::Error.
//
// Every call into the CUDA runtime, cuDNN or cuBLAS made by the backend goes through one of
// these checks, so a failure surfaces as an Error naming the op and the library call, e.g.
//   "cuDNN error in conv2d_forward: cudnnConvolutionForward: CUDNN_STATUS_BAD_PARAM".
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include "tinynet/core/error.hpp"

namespace tinynet {
namespace cudnn {

// ensures: returns when status == cudaSuccess; otherwise clears the (non-sticky) error state
// and throws an Error naming `what` and the CUDA error.
inline void check_cuda(cudaError_t status, const char* what) {
  if (status == cudaSuccess) return;
  (void)cudaGetLastError();
  fail("CUDA error in ", what, ": ", cudaGetErrorName(status), " (", cudaGetErrorString(status), ")");
}

// ensures: returns when status == CUDNN_STATUS_SUCCESS; otherwise an Error naming `what`.
inline void check_cudnn(cudnnStatus_t status, const char* what) {
  if (status != CUDNN_STATUS_SUCCESS) fail("cuDNN error in ", what, ": ", cudnnGetErrorString(status));
}

// ensures: returns when status == CUBLAS_STATUS_SUCCESS; otherwise an Error naming `what`.
inline void check_cublas(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS)
    fail("cuBLAS error in ", what, ": ", cublasGetStatusName(status), " (", cublasGetStatusString(status), ")");
}

}  // namespace cudnn
}  // namespace tinynet
