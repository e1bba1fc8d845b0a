// Helpers shared by the tests of the convolution paths (im2col, Winograd, whole-plane):
// forcing a path, running all three directions with it, comparing results.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "layer_test_helpers.hpp"
#include "tinynet/backend/cpu/conv2d.hpp"
#include "tinynet/core/tensor.hpp"

namespace tinynet_test {

// Forces one convolution path for the scope, then restores the setting before it.
struct ForcedConvAlgorithm {
  tinynet::cpu::ConvAlgorithm before = tinynet::cpu::conv_algorithm();
  explicit ForcedConvAlgorithm(tinynet::cpu::ConvAlgorithm a) { tinynet::cpu::set_conv_algorithm(a); }
  ~ForcedConvAlgorithm() { tinynet::cpu::set_conv_algorithm(before); }
};

// ensures: t's values converted to T, same shape.
template <class T>
tinynet::Tensor<T> converted(const tinynet::Tensor<double>& t) {
  tinynet::Tensor<T> out(t.shape());
  for (std::int64_t i = 0; i < t.numel(); ++i) out[i] = static_cast<T>(t[i]);
  return out;
}

// Random inputs of one convolution of geometry g over `batch` samples, from seeds seed to seed + 3.
struct ConvInputs {
  tinynet::Tensor<double> x, kernel, bias, dy;
  ConvInputs(const tinynet::ConvGeometry& g, std::int64_t batch, std::uint64_t seed)
      : x(random_tensor(tinynet::Shape{batch, g.channels, g.in_h, g.in_w}, seed)),
        kernel(random_tensor(tinynet::Shape{g.out_channels, g.channels, g.kernel_h, g.kernel_w}, seed + 1)),
        bias(random_tensor(tinynet::Shape{g.out_channels}, seed + 2)),
        dy(random_tensor(tinynet::Shape{batch, g.out_channels, g.out_h, g.out_w}, seed + 3)) {}
};

// ensures: max |a - b| / max |a| (0 when a is all zeros and b equals it).
template <class A, class B>
double relative_difference(const tinynet::Tensor<A>& a, const tinynet::Tensor<B>& b) {
  REQUIRE(a.numel() == b.numel());
  double worst = 0, scale = 0;
  for (std::int64_t i = 0; i < a.numel(); ++i) {
    worst = std::max(worst, std::abs(double(a[i]) - double(b[i])));
    scale = std::max(scale, std::abs(double(a[i])));
  }
  return scale > 0 ? worst / scale : worst;
}

// The outputs of one convolution, forward and backward, with one forced path.
template <class T>
struct ConvResults {
  tinynet::Tensor<T> y, dx, dkernel, dbias;
};

template <class T>
ConvResults<T> run_conv(tinynet::cpu::ConvAlgorithm a, const tinynet::ConvGeometry& g, const tinynet::Tensor<T>& x,
                        const tinynet::Tensor<T>& kernel, const tinynet::Tensor<T>& bias,
                        const tinynet::Tensor<T>& dy) {
  using tinynet::Tensor;
  ForcedConvAlgorithm forced(a);
  tinynet::cpu::ConvWorkspace<T> ws;
  ConvResults<T> r{Tensor<T>(dy.shape()), Tensor<T>(x.shape()), Tensor<T>(kernel.shape()), Tensor<T>(bias.shape())};
  tinynet::cpu::conv2d_forward(x, kernel, bias, r.y, g, ws);
  tinynet::cpu::conv2d_backward(x, kernel, dy, &r.dx, &r.dkernel, &r.dbias, g, ws);
  return r;
}

// ensures: conv2d_batch_norm_inference with ReLU of `batch` samples of geometry g by path a,
// the inputs, kernel, bias and batch-norm parameters drawn from seeds seed .. seed + 6.
inline tinynet::Tensor<double> batch_norm_conv(tinynet::cpu::ConvAlgorithm a, const tinynet::ConvGeometry& g,
                                               std::int64_t batch, std::uint64_t seed) {
  using tinynet::Shape;
  using tinynet::Tensor;
  const std::int64_t C = g.channels, OC = g.out_channels;
  const Tensor<double> x = random_tensor(Shape{batch, C, g.in_h, g.in_w}, seed);
  const Tensor<double> kernel = random_tensor(Shape{OC, C, g.kernel_h, g.kernel_w}, seed + 1);
  const Tensor<double> bias = random_tensor(Shape{OC}, seed + 2), gamma = random_tensor(Shape{OC}, seed + 3);
  const Tensor<double> beta = random_tensor(Shape{OC}, seed + 4), mean = random_tensor(Shape{OC}, seed + 5);
  Tensor<double> variance = random_tensor(Shape{OC}, seed + 6);
  for (double& v : variance) v = std::abs(v) + 0.1;
  ForcedConvAlgorithm forced(a);
  tinynet::cpu::ConvWorkspace<double> ws;
  Tensor<double> y(Shape{batch, OC, g.out_h, g.out_w});
  tinynet::cpu::conv2d_batch_norm_inference(x, kernel, bias, gamma, beta, mean, variance, 1e-3, true, y, g, ws);
  return y;
}

}  // namespace tinynet_test
