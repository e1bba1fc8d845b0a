// tinynet/backend/conv2d.hpp: convolution ops, dispatched by device.
//
// conv2d_forward:  y = conv(x, kernel) + bias (bias may be empty).
// conv2d_backward: any of dx, dkernel, dbias (null = not wanted), overwritten.
// conv2d_batch_norm_inference: y = BN_inference(conv(x, kernel) + bias), ReLU'd when
//                  relu; on the CPU one pass (the batch norm folded into the copy-out of
//                  the GEMM result), on CUDA the three ops in turn. Inference only.
// Layouts and requirements as in backend/cpu/conv2d.hpp. A ConvWorkspace belongs to
// one layer and carries state from its forward to its backward.
#pragma once

#include "tinynet/backend/batch_norm.hpp"
#include "tinynet/backend/conv_geometry.hpp"
#include "tinynet/backend/cpu/conv2d.hpp"
#include "tinynet/backend/device_dispatch.hpp"
#ifdef TINYNET_WITH_CUDNN
#include "tinynet/backend/cudnn/conv2d.hpp"
#endif

namespace tinynet {

template <class T>
struct ConvWorkspace {
  cpu::ConvWorkspace<T> cpu;
#ifdef TINYNET_WITH_CUDNN
  cudnn::ConvState cuda;
  Tensor<T> cuda_conv_output;  // conv2d_batch_norm_inference: the convolution before the batch norm
#endif
};

template <class T>
void conv2d_forward(const Tensor<T>& x, const Tensor<T>& kernel, const Tensor<T>& bias, Tensor<T>& y,
                    const ConvGeometry& g, ConvWorkspace<T>& ws) {
  if (common_device("conv2d_forward", {x.device(), kernel.device(), y.device()}) == Device::cuda)
    TINYNET_ON_CUDA(cudnn::conv2d_forward(x, kernel, bias, y, g, ws.cuda));
  cpu::conv2d_forward(x, kernel, bias, y, g, ws.cpu);
}

template <class T>
void conv2d_backward(const Tensor<T>& x, const Tensor<T>& kernel, const Tensor<T>& dy, Tensor<T>* dx,
                     Tensor<T>* dkernel, Tensor<T>* dbias, const ConvGeometry& g, ConvWorkspace<T>& ws) {
  if (common_device("conv2d_backward", {x.device(), kernel.device(), dy.device()}) == Device::cuda)
    TINYNET_ON_CUDA(cudnn::conv2d_backward(x, kernel, dy, dx, dkernel, dbias, g, ws.cuda));
  cpu::conv2d_backward(x, kernel, dy, dx, dkernel, dbias, g, ws.cpu);
}

template <class T>
void conv2d_batch_norm_inference(const Tensor<T>& x, const Tensor<T>& kernel, const Tensor<T>& bias,
                                 const Tensor<T>& gamma, const Tensor<T>& beta, const Tensor<T>& moving_mean,
                                 const Tensor<T>& moving_variance, double epsilon, bool relu, Tensor<T>& y,
                                 const ConvGeometry& g, ConvWorkspace<T>& ws) {
  if (common_device("conv2d_batch_norm_inference", {x.device(), kernel.device(), gamma.device(), y.device()}) ==
      Device::cuda) {
#ifdef TINYNET_WITH_CUDNN
    ws.cuda_conv_output.resize(y.shape(), Device::cuda);
    cudnn::conv2d_forward(x, kernel, bias, ws.cuda_conv_output, g, ws.cuda);
    cudnn::batch_norm_forward_inference(ws.cuda_conv_output, gamma, beta, moving_mean, moving_variance, epsilon, y,
                                        relu);
    return;
#endif
  }
  cpu::conv2d_batch_norm_inference(x, kernel, bias, gamma, beta, moving_mean, moving_variance, epsilon, relu, y, g,
                                   ws.cpu);
}

}  // namespace tinynet
