// tinynet/backend/softmax_cross_entropy.hpp: softmax cross-entropy ops, dispatched by device.
//
// softmax_cross_entropy_forward:  probabilities, per-row losses and (returned) their mean
//                                 against the label-smoothed target.
// softmax_cross_entropy_backward: dLoss/dlogits of that mean (overwritten).
// Layouts and formulas as in backend/cpu/softmax_cross_entropy.hpp.
#pragma once

#include "tinynet/backend/cpu/softmax_cross_entropy.hpp"
#include "tinynet/backend/device_dispatch.hpp"
#ifdef TINYNET_WITH_CUDNN
#include "tinynet/backend/cudnn/softmax_cross_entropy.hpp"
#endif

namespace tinynet {

template <class T>
double softmax_cross_entropy_forward(const Tensor<T>& logits, const Tensor<T>& target, double label_smoothing,
                                     Tensor<T>& probabilities, Tensor<T>& row_losses) {
  if (common_device("softmax_cross_entropy_forward",
                    {logits.device(), target.device(), probabilities.device(), row_losses.device()}) == Device::cuda)
    TINYNET_ON_CUDA(
        cudnn::softmax_cross_entropy_forward(logits, target, label_smoothing, probabilities, row_losses));
  return cpu::softmax_cross_entropy_forward(logits, target, label_smoothing, probabilities, row_losses);
}

template <class T>
void softmax_cross_entropy_backward(const Tensor<T>& probabilities, const Tensor<T>& target, double label_smoothing,
                                    Tensor<T>& dlogits) {
  if (common_device("softmax_cross_entropy_backward", {probabilities.device(), target.device(), dlogits.device()}) ==
      Device::cuda)
    TINYNET_ON_CUDA(cudnn::softmax_cross_entropy_backward(probabilities, target, label_smoothing, dlogits));
  cpu::softmax_cross_entropy_backward(probabilities, target, label_smoothing, dlogits);
}

}  // namespace tinynet
