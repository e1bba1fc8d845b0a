// tinynet/backend/device_stream.hpp: the stream a GPU library outside the backend orders its
// work on (NCCL's gradient sums must start after the backward's kernels and finish before the
// optimizer's).
//
// device_compute_stream(): the calling thread's CUDA stream, on which every op of the cuDNN
// backend runs (backend/cudnn/stream.hpp). Only with the cuDNN backend (TINYNET_WITH_CUDNN).
#pragma once

#ifdef TINYNET_WITH_CUDNN
#include <cuda_runtime_api.h>

#include "tinynet/backend/cudnn/stream.hpp"

namespace tinynet {

// ensures: this thread's compute stream (created on first use; an Error without a usable GPU).
inline cudaStream_t device_compute_stream() { return cudnn::current_stream(); }

}  // namespace tinynet
#endif
