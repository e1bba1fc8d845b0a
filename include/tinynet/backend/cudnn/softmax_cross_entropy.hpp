// tinynet/backend/cudnn/softmax_cross_entropy.hpp: softmax cross-entropy on CUDA tensors.
//
// Forward: cudnnSoftmaxForward (log mode, per row) into scratch, then a kernel forms the
// probabilities and each row's loss against the Keras label-smoothed target; the row losses
// are copied back and summed on the host in row order (the mean is returned, so the forward
// waits for the device). Backward: a kernel. Formulas as backend/cpu/softmax_cross_entropy.hpp.
#pragma once

#include <cstdint>
#include <vector>

#include "tinynet/backend/cudnn/descriptors.hpp"
#include "tinynet/backend/cudnn/device_memory.hpp"
#include "tinynet/backend/cudnn/handles.hpp"
#include "tinynet/backend/cudnn/kernels.hpp"
#include "tinynet/backend/cudnn/status.hpp"
#include "tinynet/core/tensor.hpp"

namespace tinynet {
namespace cudnn {

// requires: CUDA tensors logits and target [N,K] (N >= 1), probabilities [N,K], row_losses [N].
// ensures: probabilities = row softmax, row_losses = per-row cross-entropy; returns their mean.
template <class T>
double softmax_cross_entropy_forward(const Tensor<T>& logits, const Tensor<T>& target, double label_smoothing,
                                     Tensor<T>& probabilities, Tensor<T>& row_losses) {
  const std::int64_t N = logits.dim(0), K = logits.dim(1);
  CudaHandles& h = CudaHandles::current();
  thread_local TensorDescriptor rows;
  describe_tensor<T>(rows, N, K, 1, 1);
  T* log_p = static_cast<T*>(h.scratch(Scratch::primary, sizeof(T) * static_cast<std::size_t>(N * K)));
  check_cudnn(cudnnSoftmaxForward(h.cudnn(), CUDNN_SOFTMAX_LOG, CUDNN_SOFTMAX_MODE_INSTANCE, Blend<T>::one(),
                                  rows.get(), logits.data(), Blend<T>::zero(), rows.get(), log_p),
              "softmax_cross_entropy_forward: cudnnSoftmaxForward");
  check_cuda(kernels::softmax_cross_entropy_rows(log_p, target.data(), label_smoothing, probabilities.data(),
                                                 row_losses.data(), N, K, h.stream()),
             "softmax_cross_entropy_forward");
  thread_local std::vector<T> losses;
  losses.resize(static_cast<std::size_t>(N));
  copy_bytes(losses.data(), Device::cpu, row_losses.data(), Device::cuda, sizeof(T) * losses.size());
  double total = 0;  // summed in row order, as the CPU backend does
  for (T loss : losses) total += loss;
  return total / static_cast<double>(N);
}

// requires: probabilities from the forward with this target and label smoothing; dlogits [N,K].
// ensures: dlogits = (probabilities * sum_k t' - t') / N.
template <class T>
void softmax_cross_entropy_backward(const Tensor<T>& probabilities, const Tensor<T>& target, double label_smoothing,
                                    Tensor<T>& dlogits) {
  check_cuda(kernels::softmax_cross_entropy_grad(probabilities.data(), target.data(), label_smoothing, dlogits.data(),
                                                 probabilities.dim(0), probabilities.dim(1), current_stream()),
             "softmax_cross_entropy_backward");
}

}  // namespace cudnn
}  // namespace tinynet
