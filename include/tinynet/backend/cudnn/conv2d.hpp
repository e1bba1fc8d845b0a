// tinynet/backend/cudnn/conv2d.hpp: 2-D convolution of CUDA tensors through cuDNN.
//
// Forward, backward-data and backward-filter use cuDNN's convolution API with, for each input
// shape, the algorithm cudnnFind*AlgorithmEx measures fastest among those whose workspace fits
// max_conv_workspace_bytes, preferring deterministic algorithms (so GPU runs repeat exactly).
// The search runs once per shape and direction; its result lives in the layer's ConvState.
// Bias: cudnnAddTensor forward, cudnnConvolutionBackwardBias backward.
// Padding: cuDNN pads both sides of an axis equally. TensorFlow's 'same' padding can be one
// pixel larger at the bottom/right, and explicit amounts can be anything, so the input is
// first copied into zero-surrounded planes carrying the unequal part (cuDNN pads the rest),
// and backward-data crops the gradient back.
// Layouts as backend/cpu/conv2d.hpp: x [N,C,H,W], kernel [OC,C,KH,KW], y [N,OC,OH,OW].
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <map>

#include <cudnn.h>

#include "tinynet/backend/conv_geometry.hpp"
#include "tinynet/backend/cudnn/descriptors.hpp"
#include "tinynet/backend/cudnn/handles.hpp"
#include "tinynet/backend/cudnn/kernels.hpp"
#include "tinynet/backend/cudnn/status.hpp"
#include "tinynet/core/error.hpp"
#include "tinynet/core/tensor.hpp"

namespace tinynet {
namespace cudnn {

constexpr std::size_t max_conv_workspace_bytes = std::size_t(256) << 20;

// One direction's chosen cuDNN algorithm (an enum value of that direction's algorithm type).
struct ConvAlgorithm {
  bool found = false;
  int algorithm = 0;
  std::size_t workspace_bytes = 0;
  cudnnMathType_t math = CUDNN_FMA_MATH;
};

// The cuDNN state of one convolution layer: the algorithms chosen per input shape.
class ConvState {
 public:
  struct Algorithms {
    ConvAlgorithm forward, backward_data, backward_filter;
  };
  // ensures: the (initially unfound) algorithms for this batch size, geometry and scalar size.
  Algorithms& algorithms(std::int64_t batch, const ConvGeometry& g, std::size_t scalar_bytes) {
    const Key key{batch,      g.channels, g.in_h,    g.in_w,       g.out_channels, g.kernel_h, g.kernel_w,
                  g.stride_h, g.stride_w, g.pad_top, g.pad_bottom, g.pad_left,     g.pad_right,
                  static_cast<std::int64_t>(scalar_bytes)};
    return by_shape_[key];
  }

 private:
  using Key = std::array<std::int64_t, 14>;
  std::map<Key, Algorithms> by_shape_;
};

namespace detail {
// How one convolution is put to cuDNN: its symmetric padding plus the input copy carrying the rest.
struct ConvPlan {
  int pad_h = 0, pad_w = 0;
  kernels::PlanePadding surround;  // x [N*C planes of H x W] inside the planes cuDNN convolves
  bool surrounded = false;
};

inline ConvPlan plan_convolution(std::int64_t batch, const ConvGeometry& g) {
  ConvPlan p;
  p.pad_h = std::min(g.pad_top, g.pad_bottom);
  p.pad_w = std::min(g.pad_left, g.pad_right);
  p.surround = {batch * g.channels,
                g.in_h,
                g.in_w,
                g.in_h + g.pad_top + g.pad_bottom - 2 * p.pad_h,
                g.in_w + g.pad_left + g.pad_right - 2 * p.pad_w,
                g.pad_top - p.pad_h,
                g.pad_left - p.pad_w};
  p.surrounded = p.surround.out_h != g.in_h || p.surround.out_w != g.in_w;
  return p;
}

struct ConvDescriptors {
  TensorDescriptor x, y, bias;
  FilterDescriptor kernel;
  ConvolutionDescriptor conv;
};

// ensures: this thread's descriptors for the planned convolution of a batch; an Error when
// cuDNN's output shape disagrees with the geometry.
template <class T>
ConvDescriptors& describe_conv(std::int64_t batch, const ConvGeometry& g, const ConvPlan& p) {
  thread_local ConvDescriptors d;
  describe_tensor<T>(d.x, batch, g.channels, p.surround.out_h, p.surround.out_w);
  describe_tensor<T>(d.y, batch, g.out_channels, g.out_h, g.out_w);
  describe_tensor<T>(d.bias, 1, g.out_channels, 1, 1);
  describe_filter<T>(d.kernel, g.out_channels, g.channels, g.kernel_h, g.kernel_w);
  describe_convolution<T>(d.conv, p.pad_h, p.pad_w, g.stride_h, g.stride_w,
                          tf32_allowed() ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH);
  int n = 0, c = 0, h = 0, w = 0;
  check_cudnn(cudnnGetConvolution2dForwardOutputDim(d.conv.get(), d.x.get(), d.kernel.get(), &n, &c, &h, &w),
              "cudnnGetConvolution2dForwardOutputDim");
  check(n == batch && c == g.out_channels && h == g.out_h && w == g.out_w, "conv2d (CUDA): cuDNN computes [", n,
        ",", c, ",", h, ",", w, "] where the geometry gives [", batch, ",", g.out_channels, ",", g.out_h, ",", g.out_w,
        "]");
  return d;
}

// ensures: the input cuDNN convolves: x itself, or x surrounded per the plan (in Scratch::primary).
template <class T>
const T* planned_input(const Tensor<T>& x, const ConvPlan& p, CudaHandles& h) {
  if (!p.surrounded) return x.data();
  T* surrounded = static_cast<T*>(
      h.scratch(Scratch::primary, sizeof(T) * static_cast<std::size_t>(p.surround.planes * p.surround.out_h *
                                                                        p.surround.out_w)));
  check_cuda(kernels::pad_planes(x.data(), surrounded, p.surround, T(0), h.stream()), "conv2d: padding the input");
  return surrounded;
}

// requires: results from a cudnnFind*AlgorithmEx call (sorted fastest first).
// ensures: the first deterministic successful result, else the first successful one.
template <class Perf>
ConvAlgorithm choose_algorithm(const Perf* results, int count, const char* op) {
  const Perf* chosen = nullptr;
  for (int i = 0; i < count; ++i) {
    if (results[i].status != CUDNN_STATUS_SUCCESS || results[i].memory > max_conv_workspace_bytes) continue;
    if (!chosen) chosen = &results[i];
    if (results[i].determinism == CUDNN_DETERMINISTIC) {
      chosen = &results[i];
      break;
    }
  }
  check(chosen != nullptr, op, ": cuDNN found no usable algorithm within a workspace of ", max_conv_workspace_bytes,
        " bytes");
  ConvAlgorithm a;
  a.found = true;
  a.algorithm = static_cast<int>(chosen->algo);
  a.workspace_bytes = chosen->memory;
  a.math = tf32_allowed() ? chosen->mathType : CUDNN_FMA_MATH;
  return a;
}
}  // namespace detail

// requires: CUDA tensors x [N,C,H,W], kernel [OC,C,KH,KW], bias empty or [OC], y [N,OC,OH,OW].
// ensures: y = conv(x, kernel) + bias.
template <class T>
void conv2d_forward(const Tensor<T>& x, const Tensor<T>& kernel, const Tensor<T>& bias, Tensor<T>& y,
                    const ConvGeometry& g, ConvState& state) {
  CudaHandles& h = CudaHandles::current();
  const std::int64_t N = x.dim(0);
  const detail::ConvPlan plan = detail::plan_convolution(N, g);
  detail::ConvDescriptors& d = detail::describe_conv<T>(N, g, plan);
  const T* input = detail::planned_input(x, plan, h);
  ConvAlgorithm& a = state.algorithms(N, g, sizeof(T)).forward;
  if (!a.found) {
    cudnnConvolutionFwdAlgoPerf_t results[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    int count = 0;
    check_cudnn(cudnnFindConvolutionForwardAlgorithmEx(
                    h.cudnn(), d.x.get(), input, d.kernel.get(), kernel.data(), d.conv.get(), d.y.get(), y.data(),
                    CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &count, results,
                    h.scratch(Scratch::workspace, max_conv_workspace_bytes), max_conv_workspace_bytes),
                "conv2d_forward: cudnnFindConvolutionForwardAlgorithmEx");
    a = detail::choose_algorithm(results, count, "conv2d_forward");
  }
  check_cudnn(cudnnSetConvolutionMathType(d.conv.get(), a.math), "conv2d_forward: cudnnSetConvolutionMathType");
  check_cudnn(cudnnConvolutionForward(h.cudnn(), Blend<T>::one(), d.x.get(), input, d.kernel.get(), kernel.data(),
                                      d.conv.get(), static_cast<cudnnConvolutionFwdAlgo_t>(a.algorithm),
                                      h.scratch(Scratch::workspace, a.workspace_bytes), a.workspace_bytes,
                                      Blend<T>::zero(), d.y.get(), y.data()),
              "conv2d_forward: cudnnConvolutionForward");
  if (!bias.empty())
    check_cudnn(cudnnAddTensor(h.cudnn(), Blend<T>::one(), d.bias.get(), bias.data(), Blend<T>::one(), d.y.get(),
                               y.data()),
                "conv2d_forward: cudnnAddTensor");
}

// requires: x the forward's input, dy [N,OC,OH,OW] (CUDA tensors).
// ensures: each non-null output receives its gradient: dx [N,C,H,W], dkernel [OC,C,KH,KW],
// dbias [OC] (all overwritten).
template <class T>
void conv2d_backward(const Tensor<T>& x, const Tensor<T>& kernel, const Tensor<T>& dy, Tensor<T>* dx,
                     Tensor<T>* dkernel, Tensor<T>* dbias, const ConvGeometry& g, ConvState& state) {
  CudaHandles& h = CudaHandles::current();
  const std::int64_t N = x.dim(0);
  const detail::ConvPlan plan = detail::plan_convolution(N, g);
  detail::ConvDescriptors& d = detail::describe_conv<T>(N, g, plan);
  ConvState::Algorithms& algorithms = state.algorithms(N, g, sizeof(T));
  if (dbias)
    check_cudnn(cudnnConvolutionBackwardBias(h.cudnn(), Blend<T>::one(), d.y.get(), dy.data(), Blend<T>::zero(),
                                             d.bias.get(), dbias->data()),
                "conv2d_backward: cudnnConvolutionBackwardBias");
  if (dkernel) {
    const T* input = detail::planned_input(x, plan, h);
    ConvAlgorithm& a = algorithms.backward_filter;
    if (!a.found) {
      cudnnConvolutionBwdFilterAlgoPerf_t results[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
      int count = 0;
      check_cudnn(cudnnFindConvolutionBackwardFilterAlgorithmEx(
                      h.cudnn(), d.x.get(), input, d.y.get(), dy.data(), d.conv.get(), d.kernel.get(),
                      dkernel->data(), CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &count, results,
                      h.scratch(Scratch::workspace, max_conv_workspace_bytes), max_conv_workspace_bytes),
                  "conv2d_backward: cudnnFindConvolutionBackwardFilterAlgorithmEx");
      a = detail::choose_algorithm(results, count, "conv2d_backward (filter)");
    }
    check_cudnn(cudnnSetConvolutionMathType(d.conv.get(), a.math), "conv2d_backward: cudnnSetConvolutionMathType");
    check_cudnn(cudnnConvolutionBackwardFilter(h.cudnn(), Blend<T>::one(), d.x.get(), input, d.y.get(), dy.data(),
                                               d.conv.get(), static_cast<cudnnConvolutionBwdFilterAlgo_t>(a.algorithm),
                                               h.scratch(Scratch::workspace, a.workspace_bytes), a.workspace_bytes,
                                               Blend<T>::zero(), d.kernel.get(), dkernel->data()),
                "conv2d_backward: cudnnConvolutionBackwardFilter");
  }
  if (dx) {
    const std::size_t surrounded_bytes =
        sizeof(T) * static_cast<std::size_t>(plan.surround.planes * plan.surround.out_h * plan.surround.out_w);
    T* grad = plan.surrounded ? static_cast<T*>(h.scratch(Scratch::secondary, surrounded_bytes)) : dx->data();
    ConvAlgorithm& a = algorithms.backward_data;
    if (!a.found) {
      cudnnConvolutionBwdDataAlgoPerf_t results[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
      int count = 0;
      check_cudnn(cudnnFindConvolutionBackwardDataAlgorithmEx(
                      h.cudnn(), d.kernel.get(), kernel.data(), d.y.get(), dy.data(), d.conv.get(), d.x.get(), grad,
                      CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &count, results,
                      h.scratch(Scratch::workspace, max_conv_workspace_bytes), max_conv_workspace_bytes),
                  "conv2d_backward: cudnnFindConvolutionBackwardDataAlgorithmEx");
      a = detail::choose_algorithm(results, count, "conv2d_backward (data)");
    }
    check_cudnn(cudnnSetConvolutionMathType(d.conv.get(), a.math), "conv2d_backward: cudnnSetConvolutionMathType");
    check_cudnn(cudnnConvolutionBackwardData(h.cudnn(), Blend<T>::one(), d.kernel.get(), kernel.data(), d.y.get(),
                                             dy.data(), d.conv.get(),
                                             static_cast<cudnnConvolutionBwdDataAlgo_t>(a.algorithm),
                                             h.scratch(Scratch::workspace, a.workspace_bytes), a.workspace_bytes,
                                             Blend<T>::zero(), d.x.get(), grad),
                "conv2d_backward: cudnnConvolutionBackwardData");
    if (plan.surrounded)
      check_cuda(kernels::crop_planes(grad, dx->data(), plan.surround, h.stream()), "conv2d_backward: cropping dx");
  }
}

}  // namespace cudnn
}  // namespace tinynet
