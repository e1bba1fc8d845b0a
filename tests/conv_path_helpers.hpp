// Helpers shared by the tests of the convolution paths (im2col, Winograd, whole-plane):
// forcing a path, running all three directions with it, comparing results.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "tinynet/backend/cpu/conv2d.hpp"
#include "tinynet/core/tensor.hpp"

namespace tinynet_test {

// Forces one convolution path for the scope, then restores the setting before it.
struct ForcedConvAlgorithm {
  tinynet::cpu::ConvAlgorithm before = tinynet::cpu::conv_algorithm();
  explicit ForcedConvAlgorithm(tinynet::cpu::ConvAlgorithm a) { tinynet::cpu::set_conv_algorithm(a); }
  ~ForcedConvAlgorithm() { tinynet::cpu::set_conv_algorithm(before); }
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

}  // namespace tinynet_test
