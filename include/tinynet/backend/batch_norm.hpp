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
// Synchronized BatchNorm's ops split at the per-channel sums (batch_norm_channel_sums,
// batch_norm_forward_with_statistics, batch_norm_gradient_sums, batch_norm_backward_from_sums:
// backend/cpu/batch_norm_sums.hpp) run on CPU tensors only (an Error for CUDA tensors).
#pragma once

#include "tinynet/backend/cpu/batch_norm.hpp"
#include "tinynet/backend/cpu/batch_norm_sums.hpp"
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

namespace detail {
inline void require_cpu_for_sync(const char* op, Device device) {
  check(device == Device::cpu, op, ": synchronized BatchNorm runs on the CPU backend only (got a ",
        device_name(device), " tensor); turn synchronized BatchNorm off on GPUs");
}
}  // namespace detail

template <class T>
void batch_norm_channel_sums(const Tensor<T>& x, const double* centre, double* sum, double* sum_squares) {
  detail::require_cpu_for_sync("batch_norm_channel_sums", x.device());
  cpu::batch_norm_channel_sums(x, centre, sum, sum_squares);
}

template <class T>
void batch_norm_forward_with_statistics(const Tensor<T>& x, const Tensor<T>& gamma, const Tensor<T>& beta,
                                        const double* mean, const double* variance, double epsilon, Tensor<T>& y,
                                        bool relu) {
  detail::require_cpu_for_sync("batch_norm_forward_with_statistics", x.device());
  cpu::batch_norm_forward_with_statistics(x, gamma, beta, mean, variance, epsilon, y, relu);
}

template <class T>
void batch_norm_gradient_sums(const Tensor<T>& x, const Tensor<T>& dy, const Tensor<T>* relu_output,
                              const double* mean, const double* inv_std, double* sum_dy, double* sum_dy_xhat) {
  detail::require_cpu_for_sync("batch_norm_gradient_sums", x.device());
  cpu::batch_norm_gradient_sums(x, dy, relu_output, mean, inv_std, sum_dy, sum_dy_xhat);
}

template <class T>
void batch_norm_backward_from_sums(const Tensor<T>& x, const Tensor<T>& dy, const Tensor<T>* relu_output,
                                   const Tensor<T>& gamma, const double* mean, const double* inv_std,
                                   const double* sum_dy, const double* sum_dy_xhat, double count, Tensor<T>& dx) {
  detail::require_cpu_for_sync("batch_norm_backward_from_sums", x.device());
  cpu::batch_norm_backward_from_sums(x, dy, relu_output, gamma, mean, inv_std, sum_dy, sum_dy_xhat, count, dx);
}

}  // namespace tinynet
