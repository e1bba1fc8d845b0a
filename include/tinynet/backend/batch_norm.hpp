// tinynet/backend/batch_norm.hpp: batch normalisation ops, dispatched by device.
//
// batch_norm_forward_training:  normalise with the batch statistics, save them for the
//                               backward, update the moving statistics.
// batch_norm_forward_inference: normalise with the moving statistics.
// batch_norm_backward_training / _inference: the matching gradients; any of dx, dgamma,
//                               dbeta may be null (not wanted).
// Fused ReLU: the forwards take `relu` (y = max(BN(x), 0)); the backwards then take that y as
// relu_output (null without a ReLU) and use dy * (relu_output > 0) as the output gradient.
// Layouts and exact formulas as in backend/cpu/batch_norm.hpp.
#pragma once

#include "tinynet/backend/cpu/batch_norm.hpp"
#include "tinynet/backend/device_dispatch.hpp"
#ifdef TINYNET_WITH_CUDNN
#include "tinynet/backend/cudnn/batch_norm.hpp"
#endif

namespace tinynet {

template <class T>
void batch_norm_forward_training(const Tensor<T>& x, const Tensor<T>& gamma, const Tensor<T>& beta, double momentum,
                                 double epsilon, Tensor<T>& moving_mean, Tensor<T>& moving_variance, Tensor<T>& y,
                                 Tensor<T>& saved_mean, Tensor<T>& saved_inv_std, bool relu) {
  if (common_device("batch_norm_forward_training", {x.device(), gamma.device(), moving_mean.device(), y.device()}) ==
      Device::cuda)
    TINYNET_ON_CUDA(cudnn::batch_norm_forward_training(x, gamma, beta, momentum, epsilon, moving_mean, moving_variance,
                                                       y, saved_mean, saved_inv_std, relu));
  cpu::batch_norm_forward_training(x, gamma, beta, momentum, epsilon, moving_mean, moving_variance, y, saved_mean,
                                   saved_inv_std, relu);
}

template <class T>
void batch_norm_forward_inference(const Tensor<T>& x, const Tensor<T>& gamma, const Tensor<T>& beta,
                                  const Tensor<T>& moving_mean, const Tensor<T>& moving_variance, double epsilon,
                                  Tensor<T>& y, bool relu) {
  if (common_device("batch_norm_forward_inference", {x.device(), gamma.device(), moving_mean.device(), y.device()}) ==
      Device::cuda)
    TINYNET_ON_CUDA(
        cudnn::batch_norm_forward_inference(x, gamma, beta, moving_mean, moving_variance, epsilon, y, relu));
  cpu::batch_norm_forward_inference(x, gamma, beta, moving_mean, moving_variance, epsilon, y, relu);
}

template <class T>
void batch_norm_backward_training(const Tensor<T>& x, const Tensor<T>& dy, const Tensor<T>* relu_output,
                                  const Tensor<T>& gamma, const Tensor<T>& saved_mean, const Tensor<T>& saved_inv_std,
                                  Tensor<T>* dx, Tensor<T>* dgamma, Tensor<T>* dbeta) {
  if (common_device("batch_norm_backward_training", {x.device(), dy.device(), gamma.device(), saved_mean.device()}) ==
      Device::cuda)
    TINYNET_ON_CUDA(
        cudnn::batch_norm_backward_training(x, dy, relu_output, gamma, saved_mean, saved_inv_std, dx, dgamma, dbeta));
  cpu::batch_norm_backward_training(x, dy, relu_output, gamma, saved_mean, saved_inv_std, dx, dgamma, dbeta);
}

template <class T>
void batch_norm_backward_inference(const Tensor<T>& x, const Tensor<T>& dy, const Tensor<T>* relu_output,
                                   const Tensor<T>& gamma, const Tensor<T>& moving_mean,
                                   const Tensor<T>& moving_variance, double epsilon, Tensor<T>* dx, Tensor<T>* dgamma,
                                   Tensor<T>* dbeta) {
  if (common_device("batch_norm_backward_inference", {x.device(), dy.device(), gamma.device(), moving_mean.device()}) ==
      Device::cuda)
    TINYNET_ON_CUDA(cudnn::batch_norm_backward_inference(x, dy, relu_output, gamma, moving_mean, moving_variance,
                                                         epsilon, dx, dgamma, dbeta));
  cpu::batch_norm_backward_inference(x, dy, relu_output, gamma, moving_mean, moving_variance, epsilon, dx, dgamma,
                                     dbeta);
}

}  // namespace tinynet
