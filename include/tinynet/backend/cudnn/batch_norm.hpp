// tinynet/backend/cudnn/batch_norm.hpp: batch normalisation of CUDA tensors through cuDNN.
//
// x [N,C,H,W] is normalised per channel (cuDNN's SPATIAL mode); x [N,F] is described to cuDNN
// as [N,F,1,1], which makes SPATIAL per feature. Training forward, inference forward and the
// training backward are cuDNN's; the inference-mode backward (a frozen BatchNorm in a training
// model), which cuDNN lacks, is an own kernel. Conventions match the CPU kernels:
//  - moving = momentum * moving + (1 - momentum) * batch, i.e. cuDNN's exponential average
//    factor is 1 - momentum; the moving variance takes the unbiased batch variance (cuDNN's rule);
//  - saved_inv_std = 1/sqrt(var + epsilon) is cuDNN's "saved inverse variance";
//  - with one value per channel (x [1,F]) cuDNN's unbiased variance would divide by zero, so the
//    moving statistics are updated by a kernel with the CPU rule (batch variance 0).
// The training backward passes the saved statistics, from which cuDNN computes the gradients;
// the epsilon argument it also takes then only has to be valid (the dispatch API has none).
// A fused ReLU is cuDNN's activation: in place on y after a forward; before a backward, the
// masked gradient dy * (y > 0) goes to this thread's workspace scratch.
#pragma once

#include <cudnn.h>

#include <cstdint>

#include "tinynet/backend/batch_norm_dims.hpp"
#include "tinynet/backend/cudnn/activation.hpp"
#include "tinynet/backend/cudnn/descriptors.hpp"
#include "tinynet/backend/cudnn/handles.hpp"
#include "tinynet/backend/cudnn/kernels.hpp"
#include "tinynet/backend/cudnn/status.hpp"
#include "tinynet/core/tensor.hpp"

namespace tinynet {
namespace cudnn {

namespace detail {
struct BatchNormDescriptors {
  TensorDescriptor x, per_channel;
};

// ensures: this thread's descriptors of x (as [N,C,S1,S2]) and of its [1,C,1,1] statistics.
template <class T>
BatchNormDescriptors& batch_norm_descriptors(const Shape& x) {
  thread_local BatchNormDescriptors d;
  const BatchNormDims dims = batch_norm_dims(x);
  describe_tensor<T>(d.x, dims.batch, dims.channels, x.rank() == 4 ? x[2] : 1, x.rank() == 4 ? x[3] : 1);
  check_cudnn(cudnnDeriveBNTensorDescriptor(d.per_channel.get(), d.x.get(), CUDNN_BATCHNORM_SPATIAL),
              "cudnnDeriveBNTensorDescriptor");
  return d;
}

constexpr double backward_epsilon = 1e-5;  // valid for cuDNN; unused with saved statistics

// ensures: the output gradient a backward reads: dy, or with relu_output (a fused ReLU's
// output) dy * (relu_output > 0), written to this thread's workspace scratch.
template <class T>
const T* output_gradient(const Tensor<T>& dy, const Tensor<T>* relu_output) {
  if (!relu_output) return dy.data();
  T* masked = static_cast<T*>(
      CudaHandles::current().scratch(Scratch::workspace, sizeof(T) * static_cast<std::size_t>(dy.numel())));
  cudnn::relu_backward(relu_output->data(), dy.data(), masked, dy.numel());
  return masked;
}
}  // namespace detail

// requires: CUDA tensors; gamma, beta, moving_*, saved_* [C]; y sized as x.
// ensures: as cpu::batch_norm_forward_training.
template <class T>
void batch_norm_forward_training(const Tensor<T>& x, const Tensor<T>& gamma, const Tensor<T>& beta, double momentum,
                                 double epsilon, Tensor<T>& moving_mean, Tensor<T>& moving_variance, Tensor<T>& y,
                                 Tensor<T>& saved_mean, Tensor<T>& saved_inv_std, bool relu) {
  CudaHandles& h = CudaHandles::current();
  detail::BatchNormDescriptors& d = detail::batch_norm_descriptors<T>(x.shape());
  const BatchNormDims dims = batch_norm_dims(x.shape());
  const bool single_value = dims.per_channel() == 1;
  check_cudnn(cudnnBatchNormalizationForwardTraining(
                  h.cudnn(), CUDNN_BATCHNORM_SPATIAL, Blend<T>::one(), Blend<T>::zero(), d.x.get(), x.data(),
                  d.x.get(), y.data(), d.per_channel.get(), gamma.data(), beta.data(), 1.0 - momentum,
                  single_value ? nullptr : moving_mean.data(), single_value ? nullptr : moving_variance.data(),
                  epsilon, saved_mean.data(), saved_inv_std.data()),
              "batch_norm_forward_training: cudnnBatchNormalizationForwardTraining");
  if (single_value) {
    check_cuda(
        kernels::moving_average_update(moving_mean.data(), saved_mean.data(), momentum, dims.channels, h.stream()),
        "batch_norm_forward_training: moving mean");
    check_cuda(kernels::moving_average_update<T>(moving_variance.data(), nullptr, momentum, dims.channels, h.stream()),
               "batch_norm_forward_training: moving variance");
  }
  if (relu) cudnn::relu_forward(y, y);  // cudnnActivationForward works in place
}

// ensures: as cpu::batch_norm_forward_inference.
template <class T>
void batch_norm_forward_inference(const Tensor<T>& x, const Tensor<T>& gamma, const Tensor<T>& beta,
                                  const Tensor<T>& moving_mean, const Tensor<T>& moving_variance, double epsilon,
                                  Tensor<T>& y, bool relu) {
  CudaHandles& h = CudaHandles::current();
  detail::BatchNormDescriptors& d = detail::batch_norm_descriptors<T>(x.shape());
  check_cudnn(cudnnBatchNormalizationForwardInference(h.cudnn(), CUDNN_BATCHNORM_SPATIAL, Blend<T>::one(),
                                                      Blend<T>::zero(), d.x.get(), x.data(), d.x.get(), y.data(),
                                                      d.per_channel.get(), gamma.data(), beta.data(),
                                                      moving_mean.data(), moving_variance.data(), epsilon),
              "batch_norm_forward_inference: cudnnBatchNormalizationForwardInference");
  if (relu) cudnn::relu_forward(y, y);
}

// requires: saved_mean/saved_inv_std from batch_norm_forward_training on this x.
// ensures: as cpu::batch_norm_backward_training (outputs the caller does not want go to scratch).
template <class T>
void batch_norm_backward_training(const Tensor<T>& x, const Tensor<T>& dy, const Tensor<T>* relu_output,
                                  const Tensor<T>& gamma, const Tensor<T>& saved_mean, const Tensor<T>& saved_inv_std,
                                  Tensor<T>* dx, Tensor<T>* dgamma, Tensor<T>* dbeta) {
  const T* gradient = detail::output_gradient(dy, relu_output);
  CudaHandles& h = CudaHandles::current();
  detail::BatchNormDescriptors& d = detail::batch_norm_descriptors<T>(x.shape());
  const std::size_t channels = static_cast<std::size_t>(gamma.numel());
  T* unwanted = static_cast<T*>(h.scratch(Scratch::secondary, sizeof(T) * 2 * channels));
  T* dx_out = dx ? dx->data()
                 : static_cast<T*>(h.scratch(Scratch::primary, sizeof(T) * static_cast<std::size_t>(x.numel())));
  check_cudnn(cudnnBatchNormalizationBackward(
                  h.cudnn(), CUDNN_BATCHNORM_SPATIAL, Blend<T>::one(), Blend<T>::zero(), Blend<T>::one(),
                  Blend<T>::zero(), d.x.get(), x.data(), d.x.get(), gradient, d.x.get(), dx_out, d.per_channel.get(),
                  gamma.data(), dgamma ? dgamma->data() : unwanted, dbeta ? dbeta->data() : unwanted + channels,
                  detail::backward_epsilon, saved_mean.data(), saved_inv_std.data()),
              "batch_norm_backward_training: cudnnBatchNormalizationBackward");
}

// ensures: as cpu::batch_norm_backward_inference (own kernel; null outputs are skipped).
template <class T>
void batch_norm_backward_inference(const Tensor<T>& x, const Tensor<T>& dy, const Tensor<T>* relu_output,
                                   const Tensor<T>& gamma, const Tensor<T>& moving_mean,
                                   const Tensor<T>& moving_variance, double epsilon, Tensor<T>* dx, Tensor<T>* dgamma,
                                   Tensor<T>* dbeta) {
  const BatchNormDims dims = batch_norm_dims(x.shape());
  check_cuda(kernels::batch_norm_backward_inference(
                 x.data(), detail::output_gradient(dy, relu_output), gamma.data(), moving_mean.data(),
                 moving_variance.data(), epsilon, dx ? dx->data() : nullptr, dgamma ? dgamma->data() : nullptr,
                 dbeta ? dbeta->data() : nullptr, dims.batch, dims.channels, dims.spatial, current_stream()),
             "batch_norm_backward_inference");
}

}  // namespace cudnn
}  // namespace tinynet
