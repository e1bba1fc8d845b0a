// tinynet/backend/cudnn/dropout.hpp: inverted dropout on CUDA tensors.
//
// The keep/drop decisions are drawn on the host from the caller's Rng, one uniform per
// element in element order, exactly as the CPU kernel draws them: the same generator state
// gives the same mask on both backends (and a checkpointed generator resumes identically).
// The decisions travel as one byte per element through a pinned staging buffer; a kernel
// turns them into the mask (0 or 1/(1-rate)) and applies it.
#pragma once

#include <cstdint>

#include "tinynet/backend/cudnn/handles.hpp"
#include "tinynet/backend/cudnn/kernels.hpp"
#include "tinynet/backend/cudnn/pinned_buffer.hpp"
#include "tinynet/backend/cudnn/status.hpp"
#include "tinynet/backend/dropout_mask.hpp"
#include "tinynet/core/random.hpp"
#include "tinynet/core/tensor.hpp"

namespace tinynet {
namespace cudnn {

// requires: 0 <= rate < 1; mask and y CUDA tensors sized as x.
// ensures: mask drawn from rng as cpu::dropout_forward draws it; y = x * mask.
template <class T>
void dropout_forward(const Tensor<T>& x, double rate, Rng& rng, Tensor<T>& mask, Tensor<T>& y,
                     std::int64_t first_element = 0) {
  const std::int64_t n = x.numel();
  if (n == 0) return;
  CudaHandles& h = CudaHandles::current();
  thread_local PinnedBuffer staging;
  auto* keep = static_cast<std::uint8_t*>(staging.reserve(static_cast<std::size_t>(n)));
  const std::uint64_t seed = rng.next();
  for (std::int64_t i = 0; i < n; ++i) keep[i] = dropout_keeps(seed, first_element + i, rate) ? 1 : 0;
  void* device_keep = h.scratch(Scratch::primary, static_cast<std::size_t>(n));
  staging.upload_to(device_keep, static_cast<std::size_t>(n), h.stream());
  check_cuda(kernels::dropout_apply(static_cast<const std::uint8_t*>(device_keep), static_cast<T>(1.0 / (1.0 - rate)),
                                    x.data(), mask.data(), y.data(), n, h.stream()),
             "dropout_forward");
}

// requires: mask from dropout_forward; dy, dx sized as mask. ensures: dx = dy * mask.
template <class T>
void dropout_backward(const Tensor<T>& mask, const Tensor<T>& dy, Tensor<T>& dx) {
  check_cuda(kernels::multiply(dy.data(), mask.data(), dx.data(), mask.numel(), current_stream()),
             "dropout_backward");
}

}  // namespace cudnn
}  // namespace tinynet
