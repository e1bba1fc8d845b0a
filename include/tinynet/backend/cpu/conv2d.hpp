// tinynet/backend/cpu/conv2d.hpp: the CPU convolution ops, each computed by the path
// backend/cpu/conv_algorithm.hpp chooses for its shape.
//
// Layouts: x [N,C,H,W], kernel [OC,C,KH,KW] (OIHW), y [N,OC,OH,OW]. Every convolution can
// run as im2col + GEMM (backend/cpu/conv2d_im2col.hpp); 3x3 stride-1 ones also by Winograd
// (backend/cpu/winograd_conv3x3.hpp, winograd_kernel_gradient.hpp), and those on planes with
// fewer pixels than kernel taps as one whole-plane GEMM (backend/cpu/conv2d_whole_plane.hpp),
// each direction (forward, input gradient, kernel gradient) chosen on its own. A layer's
// ConvWorkspace keeps its choices (per batch size) and folded batch norm between calls; the
// large scratch buffers (patches, transformed tiles and kernels, plane matrices) are the
// calling thread's, shared by every convolution it runs (conv_scratch()), so a model needs
// them once, not once per layer.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "tinynet/backend/conv_geometry.hpp"
#include "tinynet/backend/cpu/conv2d_im2col.hpp"
#include "tinynet/backend/cpu/conv2d_whole_plane.hpp"
#include "tinynet/backend/cpu/conv_algorithm.hpp"
#include "tinynet/backend/cpu/conv_output_transform.hpp"
#include "tinynet/backend/cpu/winograd_conv3x3.hpp"
#include "tinynet/backend/cpu/winograd_kernel_gradient.hpp"
#include "tinynet/core/tensor.hpp"
#include "tinynet/core/threading.hpp"

namespace tinynet {
namespace cpu {

// The path one layer uses in one direction, for the batch size it last saw.
struct ConvChoiceMemo {
  std::int64_t batch = -1;
  unsigned generation = 0;
  ConvAlgorithm algorithm = ConvAlgorithm::im2col;
};

template <class T>
struct ConvWorkspace {
  Tensor<T> channel_scale, channel_shift;  // [OC]: a folded batch norm (conv2d_batch_norm_inference)
  ConvChoiceMemo forward_choice, backward_data_choice, backward_kernel_choice;
};

// The scratch one convolution call uses and leaves (grown to the largest call, never shrunk).
template <class T>
struct ConvScratch {
  Im2colWorkspace<T> im2col;
  WinogradWorkspace<T> winograd;
  WholePlaneWorkspace<T> whole_plane;
};

// ensures: the calling thread's ConvScratch. Take it on the thread that calls the operation
// (outside parallel regions) and hand it to the workers by reference.
template <class T>
ConvScratch<T>& conv_scratch() {
  thread_local ConvScratch<T> scratch;
  return scratch;
}

// ensures: the paths that can compute a convolution of geometry g, im2col first.
inline std::vector<ConvAlgorithm> conv_candidates(const ConvGeometry& g) {
  std::vector<ConvAlgorithm> paths{ConvAlgorithm::im2col};
  if (winograd_applies(g))
    paths.insert(paths.end(), {ConvAlgorithm::winograd_2x2, ConvAlgorithm::winograd_3x3, ConvAlgorithm::winograd_4x4});
  if (whole_plane_applies(g)) paths.push_back(ConvAlgorithm::whole_plane);
  return paths;
}

// ensures: whether more than im2col can compute a convolution of geometry g.
inline bool has_choice(const ConvGeometry& g) { return winograd_applies(g) || whole_plane_applies(g); }

// ensures: how many samples of a batch the paths are timed on when a choice is measured:
// the whole of a batch up to 128, an eighth of a larger one (at least 128). The paths'
// ranking holds at that size (each works on whole samples), and timing every path on a
// batch of 1024 took a quarter of a fast-recipe epoch.
inline std::int64_t measured_samples(std::int64_t batch) {
  return std::min(batch, std::max<std::int64_t>(128, batch / 8));
}

namespace detail {
// ensures: the shape key of conv_algorithm.hpp's cache for one convolution and direction.
inline std::string conv_choice_key(const char* direction, std::int64_t batch, const ConvGeometry& g,
                                   std::size_t element_bytes, int threads) {
  std::string key = direction;
  for (std::int64_t v : {batch, g.channels, g.in_h, g.in_w, g.out_channels, g.out_h, g.out_w,
                         std::int64_t(g.kernel_h), std::int64_t(g.kernel_w), std::int64_t(g.stride_h),
                         std::int64_t(g.stride_w), std::int64_t(g.pad_top), std::int64_t(g.pad_left)})
    key += " " + std::to_string(v);
  return key + " f" + std::to_string(element_bytes * 8) + " t" + std::to_string(threads);
}

// ensures: the memo's algorithm when it is still valid for this call, else the one
// choose_conv_algorithm() gives (measuring with `run` the first time), remembered.
template <class Run>
ConvAlgorithm remembered_choice(ConvChoiceMemo& memo, const char* direction, std::int64_t batch,
                                const ConvGeometry& g, std::size_t element_bytes, Run&& run) {
  const unsigned generation = conv_algorithm_generation();
  if (memo.batch == batch && memo.generation == generation) return memo.algorithm;
  const std::string key = conv_choice_key(direction, batch, g, element_bytes, num_threads());
  memo = ConvChoiceMemo{batch, generation, choose_conv_algorithm(key, conv_candidates(g), run)};
  return memo.algorithm;
}
}  // namespace detail

// requires: x [N,C,H,W], kernel [OC,C,KH,KW], y sized [N,OC,OH,OW]; the transform's
// scale/shift null or [OC].
// ensures: y = transform(conv(x, kernel)), per output channel.
template <class T>
void conv2d_forward_transformed(const Tensor<T>& x, const Tensor<T>& kernel, Tensor<T>& y, const ConvGeometry& g,
                                ConvWorkspace<T>& ws, const ConvOutputTransform<T>& transform) {
  ConvScratch<T>& scratch = conv_scratch<T>();
  const auto run = [&](ConvAlgorithm a, const Tensor<T>& input, Tensor<T>& output) {
    if (a == ConvAlgorithm::im2col)
      im2col_conv2d_forward(input, kernel, output, g, scratch.im2col, transform);
    else if (a == ConvAlgorithm::whole_plane)
      whole_plane_conv2d_forward(input, kernel, output, g, scratch.whole_plane, transform);
    else
      winograd_conv2d_forward(input, kernel, output, g, winograd_output_tile(a), scratch.winograd, transform);
  };
  if (!has_choice(g)) return run(ConvAlgorithm::im2col, x, y);
  const auto measure = [&](ConvAlgorithm a) {
    const std::int64_t n = measured_samples(x.dim(0));
    Tensor<T> output = y.batch_slice(0, n);
    run(a, x.batch_slice(0, n), output);
  };
  run(detail::remembered_choice(ws.forward_choice, "forward", x.dim(0), g, sizeof(T), measure), x, y);
}

// requires: x [N,C,H,W], kernel [OC,C,KH,KW], bias empty or [OC], y sized [N,OC,OH,OW].
// ensures: y = conv(x, kernel) + bias.
template <class T>
void conv2d_forward(const Tensor<T>& x, const Tensor<T>& kernel, const Tensor<T>& bias, Tensor<T>& y,
                    const ConvGeometry& g, ConvWorkspace<T>& ws) {
  ConvOutputTransform<T> plain;
  plain.shift = bias.empty() ? nullptr : bias.data();
  conv2d_forward_transformed(x, kernel, y, g, ws, plain);
}

// requires: as conv2d_forward; gamma, beta, moving_mean, moving_variance [OC]; epsilon > 0.
// ensures: y = BN_inference(conv(x, kernel) + bias), then ReLU when relu: the batch norm
// (with its moving statistics) folded into the convolution's output pass,
//   scale = gamma / sqrt(moving_variance + epsilon), shift = beta + (bias - moving_mean) * scale.
template <class T>
void conv2d_batch_norm_inference(const Tensor<T>& x, const Tensor<T>& kernel, const Tensor<T>& bias,
                                 const Tensor<T>& gamma, const Tensor<T>& beta, const Tensor<T>& moving_mean,
                                 const Tensor<T>& moving_variance, double epsilon, bool relu, Tensor<T>& y,
                                 const ConvGeometry& g, ConvWorkspace<T>& ws) {
  const std::int64_t OC = g.out_channels;
  ws.channel_scale.resize(Shape{OC});
  ws.channel_shift.resize(Shape{OC});
  for (std::int64_t oc = 0; oc < OC; ++oc) {
    const double scale = gamma[oc] / std::sqrt(static_cast<double>(moving_variance[oc]) + epsilon);
    const double b = bias.empty() ? 0.0 : static_cast<double>(bias[oc]);
    ws.channel_scale[oc] = static_cast<T>(scale);
    ws.channel_shift[oc] = static_cast<T>(beta[oc] + (b - moving_mean[oc]) * scale);
  }
  conv2d_forward_transformed(x, kernel, y, g, ws, ConvOutputTransform<T>{ws.channel_scale.data(),
                                                                         ws.channel_shift.data(), relu});
}

// requires: x the input of the forward pass; dy [N,OC,OH,OW].
// ensures: each non-null output receives its gradient: dx [N,C,H,W], dkernel
// [OC,C,KH,KW], dbias [OC] (all overwritten). The paths for dx and dkernel are chosen (and
// measured) each on its own; what im2col computes runs in one call (with dbias).
template <class T>
void conv2d_backward(const Tensor<T>& x, const Tensor<T>& kernel, const Tensor<T>& dy, Tensor<T>* dx,
                     Tensor<T>* dkernel, Tensor<T>* dbias, const ConvGeometry& g, ConvWorkspace<T>& ws) {
  Tensor<T>* const none = nullptr;
  ConvScratch<T>& scratch = conv_scratch<T>();
  if (!has_choice(g)) return im2col_conv2d_backward(x, kernel, dy, dx, dkernel, dbias, g, scratch.im2col);
  // The paths on the whole batch (xs = x, ...) or, when a choice is measured, on a slice of it.
  const auto input_gradient = [&](ConvAlgorithm a, const Tensor<T>& xs, const Tensor<T>& dys, Tensor<T>& dxs) {
    if (a == ConvAlgorithm::im2col)
      im2col_conv2d_backward(xs, kernel, dys, &dxs, none, none, g, scratch.im2col);
    else if (a == ConvAlgorithm::whole_plane)
      whole_plane_conv2d_backward_data(dys, kernel, dxs, g, scratch.whole_plane);
    else
      winograd_conv2d_backward_data(dys, kernel, dxs, g, winograd_output_tile(a), scratch.winograd);
  };
  const auto kernel_gradient = [&](ConvAlgorithm a, const Tensor<T>& xs, const Tensor<T>& dys) {
    if (a == ConvAlgorithm::im2col)
      im2col_conv2d_backward(xs, kernel, dys, none, dkernel, none, g, scratch.im2col);
    else if (a == ConvAlgorithm::whole_plane)
      whole_plane_conv2d_backward_kernel(xs, dys, *dkernel, g, scratch.whole_plane);
    else
      winograd_conv2d_backward_kernel(xs, dys, *dkernel, g, winograd_output_tile(a), scratch.winograd);
  };
  const std::int64_t batch = dy.dim(0);
  const std::int64_t n = measured_samples(batch);
  const auto measure_input_gradient = [&](ConvAlgorithm a) {
    Tensor<T> dx_slice = dx->batch_slice(0, n);
    input_gradient(a, x.batch_slice(0, n), dy.batch_slice(0, n), dx_slice);
  };
  const auto measure_kernel_gradient = [&](ConvAlgorithm a) {
    kernel_gradient(a, x.batch_slice(0, n), dy.batch_slice(0, n));
  };
  const ConvAlgorithm data_path = dx ? detail::remembered_choice(ws.backward_data_choice, "backward-data", batch, g,
                                                                 sizeof(T), measure_input_gradient)
                                     : ConvAlgorithm::im2col;
  const ConvAlgorithm kernel_path = dkernel ? detail::remembered_choice(ws.backward_kernel_choice, "backward-kernel",
                                                                        batch, g, sizeof(T), measure_kernel_gradient)
                                            : ConvAlgorithm::im2col;
  Tensor<T>* const im2col_dx = data_path == ConvAlgorithm::im2col ? dx : none;
  Tensor<T>* const im2col_dkernel = kernel_path == ConvAlgorithm::im2col ? dkernel : none;
  if (im2col_dx || im2col_dkernel || dbias)
    im2col_conv2d_backward(x, kernel, dy, im2col_dx, im2col_dkernel, dbias, g, scratch.im2col);
  if (dx && !im2col_dx) input_gradient(data_path, x, dy, *dx);
  if (dkernel && !im2col_dkernel) kernel_gradient(kernel_path, x, dy);
}

}  // namespace cpu
}  // namespace tinynet
