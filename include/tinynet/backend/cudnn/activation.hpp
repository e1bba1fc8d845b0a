// tinynet/backend/cudnn/activation.hpp: ReLU on CUDA tensors through cuDNN's activation ops,
// GELU through the backend's own kernels (cuDNN's legacy activation API has no GELU).
//
// The ReLU tensors are described to cuDNN as one flat row; the backward hands cuDNN the output y
// as its "x" (for ReLU, y > 0 exactly where x > 0), matching the CPU rule dx = dy * (y > 0).
#pragma once

#include <cstdint>

#include "tinynet/backend/cudnn/descriptors.hpp"
#include "tinynet/backend/cudnn/handles.hpp"
#include "tinynet/backend/cudnn/kernels.hpp"
#include "tinynet/backend/cudnn/status.hpp"
#include "tinynet/backend/cudnn/stream.hpp"
#include "tinynet/core/tensor.hpp"

namespace tinynet {
namespace cudnn {

namespace detail {
struct ReluDescriptors {
  ActivationDescriptor relu;
  TensorDescriptor flat;
  ReluDescriptors() {
    check_cudnn(cudnnSetActivationDescriptor(relu.get(), CUDNN_ACTIVATION_RELU, CUDNN_NOT_PROPAGATE_NAN, 0.0),
                "cudnnSetActivationDescriptor");
  }
};

// ensures: this thread's ReLU descriptors with `flat` describing n elements of T.
template <class T>
ReluDescriptors& relu_descriptors(std::int64_t n) {
  thread_local ReluDescriptors d;
  describe_tensor<T>(d.flat, 1, 1, 1, n);
  return d;
}
}  // namespace detail

// requires: x and y CUDA tensors of one size. ensures: y = max(x, 0).
template <class T>
void relu_forward(const Tensor<T>& x, Tensor<T>& y) {
  if (x.numel() == 0) return;
  CudaHandles& h = CudaHandles::current();
  detail::ReluDescriptors& d = detail::relu_descriptors<T>(x.numel());
  check_cudnn(cudnnActivationForward(h.cudnn(), d.relu.get(), Blend<T>::one(), d.flat.get(), x.data(),
                                     Blend<T>::zero(), d.flat.get(), y.data()),
              "relu_forward: cudnnActivationForward");
}

// requires: y the output of relu_forward; dy and dx device arrays of n values.
// ensures: dx = dy where y > 0, else 0.
template <class T>
void relu_backward(const T* y, const T* dy, T* dx, std::int64_t n) {
  if (n == 0) return;
  CudaHandles& h = CudaHandles::current();
  detail::ReluDescriptors& d = detail::relu_descriptors<T>(n);
  check_cudnn(cudnnActivationBackward(h.cudnn(), d.relu.get(), Blend<T>::one(), d.flat.get(), y, d.flat.get(), dy,
                                      d.flat.get(), y, Blend<T>::zero(), d.flat.get(), dx),
              "relu_backward: cudnnActivationBackward");
}

// requires: y the output of relu_forward; dy, dx of its size. ensures: dx = dy where y > 0, else 0.
template <class T>
void relu_backward(const Tensor<T>& y, const Tensor<T>& dy, Tensor<T>& dx) {
  relu_backward(y.data(), dy.data(), dx.data(), y.numel());
}

// requires: x and y CUDA tensors of one size. ensures: y = x * Phi(x) (as cpu::gelu_forward).
template <class T>
void gelu_forward(const Tensor<T>& x, Tensor<T>& y) {
  check_cuda(kernels::gelu_forward(x.data(), y.data(), x.numel(), current_stream()), "gelu_forward");
}

// requires: x the input of gelu_forward; dy, dx of its size. ensures: dx = dy * (Phi(x) + x * phi(x)).
template <class T>
void gelu_backward(const Tensor<T>& x, const Tensor<T>& dy, Tensor<T>& dx) {
  check_cuda(kernels::gelu_backward(x.data(), dy.data(), dx.data(), x.numel(), current_stream()), "gelu_backward");
}

}  // namespace cudnn
}  // namespace tinynet
