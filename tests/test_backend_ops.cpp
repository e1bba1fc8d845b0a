// tests/test_backend_ops.cpp: the CUDA backend checked against the CPU backend, op by op and
// over whole training steps (in the spirit of ggml's test-backend-ops).
//
// Each case runs the CPU op and the CUDA op on the same random inputs and compares them with
//   error = max_i |cuda_i - cpu_i| / max(max_i |cpu_i|, 1e-30)
// against a stated tolerance: for float, 1e-4 for convolutions and batch norm (cuDNN's
// algorithms sum in other orders; TF32 is off unless TINYNET_CUDA_TF32=1), 1e-5 for GEMMs and
// reductions, exact (0) for ops that move or pick values (pooling maxima, padding, dropout);
// for double, 1e-9 throughout (exact ops stay exact). Without the cuDNN backend, or without a
// usable GPU, every case prints a WARN saying why and skips.
// Hidden cases for a GPU machine (tests/gpu/run_on_device.sh): "[.gpu-bench]" prints training
// images/s of both models, "[.gpu-cifar]" trains on a CIFAR-10 subset (TINYNET_CIFAR_DIR).
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "layer_test_helpers.hpp"
#include "tinynet/backend/activation.hpp"
#include "tinynet/backend/batch_norm.hpp"
#include "tinynet/backend/conv2d.hpp"
#include "tinynet/backend/dense.hpp"
#include "tinynet/backend/device_copy.hpp"
#include "tinynet/backend/dropout.hpp"
#include "tinynet/backend/elementwise.hpp"
#include "tinynet/backend/optimizer_update.hpp"
#include "tinynet/backend/pooling.hpp"
#include "tinynet/backend/softmax_cross_entropy.hpp"
#include "tinynet/backend/zero_padding.hpp"
#include "tinynet/data/cifar_binary.hpp"
#include "tinynet/layers/dense.hpp"
#include "tinynet/losses/softmax_cross_entropy.hpp"
#include "tinynet/model/notebook_cnn.hpp"
#include "tinynet/model/resnet50.hpp"
#include "tinynet/optim/adam.hpp"
#include "tinynet/optim/sgd.hpp"
#ifdef TINYNET_WITH_CUDNN
#include "tinynet/backend/cudnn/batch_uploader.hpp"
#include "tinynet/backend/cudnn/device_memory.hpp"
#include "tinynet/backend/cudnn/stream.hpp"
#endif

using namespace tinynet;
using tinynet_test::random_tensor;

namespace {

// ensures: "" when CUDA ops can run here, otherwise why not.
std::string cuda_skip_reason() {
#ifdef TINYNET_WITH_CUDNN
  const std::string why = cudnn::cuda_unavailable_reason();
  return why.empty() ? "" : "no usable CUDA device: " + why;
#else
  return "tinynet was built without -DTINYNET_WITH_CUDNN=ON";
#endif
}

// Every CUDA case starts with this: a visible warning and an early return where CUDA cannot run.
#define SKIP_WITHOUT_CUDA()                                                   \
  do {                                                                        \
    const std::string skip_reason = cuda_skip_reason();                       \
    if (!skip_reason.empty()) {                                               \
      WARN("SKIPPED (CPU/CUDA comparison not run): " << skip_reason);         \
      return;                                                                 \
    }                                                                         \
  } while (0)

// ensures: the float or the double tolerance, by T.
template <class T>
double tolerance(double for_float, double for_double) {
  return std::is_same<T, float>::value ? for_float : for_double;
}

template <class T>
Tensor<T> on_cuda(const Tensor<T>& x) {
  return to_device(x, Device::cuda);
}
template <class T>
Tensor<T> on_host(const Tensor<T>& x) {
  return to_device(x, Device::cpu);
}

// ensures: a CUDA tensor of `shape` (contents unspecified).
template <class T>
Tensor<T> cuda_tensor(const Shape& shape) {
  return Tensor<T>(shape, Device::cuda);
}

// ensures: CHECKs that the CUDA result (any device) matches the CPU one within `tol` (see top).
template <class T>
void check_close(const std::string& what, const Tensor<T>& cpu, const Tensor<T>& cuda_result, double tol) {
  const Tensor<T> got = on_host(cuda_result);
  REQUIRE(got.numel() == cpu.numel());
  double worst = 0, scale = 1e-30;
  std::int64_t worst_at = -1;
  for (std::int64_t i = 0; i < cpu.numel(); ++i) {
    scale = std::max(scale, std::abs(static_cast<double>(cpu[i])));
    const double d = std::abs(static_cast<double>(got[i]) - static_cast<double>(cpu[i]));
    if (!(d <= worst)) {  // also catches NaN
      worst = d;
      worst_at = i;
    }
  }
  const double error = worst / scale;
  INFO(what << ": error " << error << " (tolerance " << tol << ") at element " << worst_at << " of " << cpu.shape()
            << (worst_at >= 0 ? ": cpu " + std::to_string(static_cast<double>(cpu[worst_at])) + " cuda " +
                                    std::to_string(static_cast<double>(got[worst_at]))
                              : std::string()));
  CHECK(error <= tol);
}

// ensures: random values from {-1, -0.5, 0, 0.5, 1}: windows with tied maxima are common.
template <class T>
Tensor<T> tied_tensor(const Shape& shape, std::uint64_t seed) {
  Tensor<T> t(shape);
  Rng rng(seed);
  for (auto& v : t) v = static_cast<T>(0.5 * static_cast<double>(rng.below(5)) - 1.0);
  return t;
}

}  // namespace

TEMPLATE_TEST_CASE("backend: conv2d forward, dx, dkernel, dbias match the CPU", "[backend][conv2d]", float, double) {
  SKIP_WITHOUT_CUDA();
  using T = TestType;
  struct Case {
    int n, c, h, w, filters, kh, kw, stride;
    Padding padding;
    ExplicitPadding amounts;
  };
  const Case cases[] = {
      {2, 3, 7, 7, 4, 3, 3, 1, Padding::same, {}},            // symmetric 'same'
      {3, 5, 9, 8, 6, 3, 3, 2, Padding::same, {}},            // stride 2: odd pixel bottom/right on W
      {2, 4, 8, 8, 5, 2, 2, 1, Padding::same, {}},            // even kernel: the extra pixel bottom/right
      {1, 3, 11, 13, 2, 5, 5, 2, Padding::valid, {}},         // odd sizes, stride 2, valid
      {4, 16, 6, 6, 8, 1, 1, 1, Padding::valid, {}},          // 1x1
      {2, 3, 5, 6, 4, 3, 3, 1, Padding::explicit_amounts, {2, 0, 1, 3}},  // top-heavy and right-heavy
      {2, 3, 15, 15, 8, 7, 7, 2, Padding::valid, {}},         // a ResNet stem on a pre-padded input
      {2, 2, 6, 5, 3, 3, 1, 1, Padding::same, {}},            // non-square kernel
  };
  const double tol = tolerance<T>(1e-4, 1e-9);
  int index = 0;
  for (const Case& k : cases) {
    ++index;
    const ConvGeometry g = make_conv_geometry("test", k.c, k.h, k.w, k.filters, k.kh, k.kw, k.stride, k.stride,
                                              k.padding, k.amounts);
    const bool with_bias = index != 1, want_dx = index != 5;  // also cover no bias and no dx
    const Shape xs{k.n, k.c, k.h, k.w}, ys{k.n, k.filters, g.out_h, g.out_w};
    const Tensor<T> x = random_tensor<T>(xs, 10 + index);
    const Tensor<T> kernel = random_tensor<T>(Shape{k.filters, k.c, k.kh, k.kw}, 20 + index);
    const Tensor<T> bias = with_bias ? random_tensor<T>(Shape{k.filters}, 30 + index) : Tensor<T>();
    const Tensor<T> dy = random_tensor<T>(ys, 40 + index);
    INFO("case " << index << ": x " << xs << " kernel " << k.kh << "x" << k.kw << "/" << k.stride << " "
                 << padding_name(k.padding) << " -> " << ys);

    ConvWorkspace<T> cpu_ws, cuda_ws;
    Tensor<T> y(ys), dx(xs), dkernel(kernel.shape()), dbias(Shape{k.filters});
    conv2d_forward(x, kernel, bias, y, g, cpu_ws);
    conv2d_backward(x, kernel, dy, want_dx ? &dx : nullptr, &dkernel, with_bias ? &dbias : nullptr, g, cpu_ws);

    const Tensor<T> gx = on_cuda(x), gkernel = on_cuda(kernel), gbias = with_bias ? on_cuda(bias) : Tensor<T>();
    const Tensor<T> gdy = on_cuda(dy);
    Tensor<T> gy = cuda_tensor<T>(ys), gdx = cuda_tensor<T>(xs), gdkernel = cuda_tensor<T>(kernel.shape()),
              gdbias = cuda_tensor<T>(Shape{k.filters});
    for (int repeat = 0; repeat < 2; ++repeat) {  // the second pass runs the cached algorithms
      conv2d_forward(gx, gkernel, gbias, gy, g, cuda_ws);
      conv2d_backward(gx, gkernel, gdy, want_dx ? &gdx : nullptr, &gdkernel, with_bias ? &gdbias : nullptr, g,
                      cuda_ws);
    }
    check_close("conv2d y", y, gy, tol);
    if (want_dx) check_close("conv2d dx", dx, gdx, tol);
    check_close("conv2d dkernel", dkernel, gdkernel, tol);
    if (with_bias) check_close("conv2d dbias", dbias, gdbias, tol);
  }
}

TEMPLATE_TEST_CASE("backend: conv2d with a folded batch norm (inference) matches the CPU", "[backend][conv2d]", float,
                   double) {
  SKIP_WITHOUT_CUDA();
  using T = TestType;
  const double tol = tolerance<T>(1e-4, 1e-9), epsilon = 1e-3;
  const ConvGeometry g = make_conv_geometry("test", 4, 6, 6, 5, 3, 3, 1, 1, Padding::same, {});
  const Shape xs{2, 4, 6, 6}, ys{2, 5, 6, 6}, cs{5};
  const Tensor<T> x = random_tensor<T>(xs, 1), kernel = random_tensor<T>(Shape{5, 4, 3, 3}, 2);
  const Tensor<T> bias = random_tensor<T>(cs, 3), gamma = random_tensor<T>(cs, 4, 0.5, 1.5);
  const Tensor<T> beta = random_tensor<T>(cs, 5), mean = random_tensor<T>(cs, 6), variance = random_tensor<T>(cs, 7, 0.5, 2);
  for (bool relu : {false, true}) {
    INFO("relu " << relu);
    ConvWorkspace<T> cpu_ws, cuda_ws;
    Tensor<T> y(ys), gy = cuda_tensor<T>(ys);
    conv2d_batch_norm_inference(x, kernel, bias, gamma, beta, mean, variance, epsilon, relu, y, g, cpu_ws);
    conv2d_batch_norm_inference(on_cuda(x), on_cuda(kernel), on_cuda(bias), on_cuda(gamma), on_cuda(beta),
                                on_cuda(mean), on_cuda(variance), epsilon, relu, gy, g, cuda_ws);
    check_close("conv2d + batch norm y", y, gy, tol);
  }
}

TEMPLATE_TEST_CASE("backend: dense forward and gradients match the CPU", "[backend][dense]", float, double) {
  SKIP_WITHOUT_CUDA();
  using T = TestType;
  struct Case {
    int n, in, out;
    bool bias;
  };
  const Case cases[] = {{1, 1, 1, true}, {5, 7, 3, true}, {64, 300, 10, false}, {33, 129, 65, true}};
  const double tol = tolerance<T>(1e-5, 1e-9);
  for (const Case& k : cases) {
    INFO("dense " << k.n << "x" << k.in << " -> " << k.out);
    const Tensor<T> x = random_tensor<T>(Shape{k.n, k.in}, 1), kernel = random_tensor<T>(Shape{k.in, k.out}, 2);
    const Tensor<T> bias = k.bias ? random_tensor<T>(Shape{k.out}, 3) : Tensor<T>();
    const Tensor<T> dy = random_tensor<T>(Shape{k.n, k.out}, 4);
    Tensor<T> y(Shape{k.n, k.out}), dx(x.shape()), dkernel(kernel.shape()), dbias(Shape{k.out});
    dense_forward(x, kernel, bias, y);
    dense_backward(x, kernel, dy, &dx, &dkernel, &dbias);
    Tensor<T> gy = cuda_tensor<T>(y.shape()), gdx = cuda_tensor<T>(dx.shape()),
              gdkernel = cuda_tensor<T>(kernel.shape()), gdbias = cuda_tensor<T>(dbias.shape());
    const Tensor<T> gx = on_cuda(x), gkernel = on_cuda(kernel);
    dense_forward(gx, gkernel, k.bias ? on_cuda(bias) : Tensor<T>(), gy);
    dense_backward(gx, gkernel, on_cuda(dy), &gdx, &gdkernel, &gdbias);
    check_close("dense y", y, gy, tol);
    check_close("dense dx", dx, gdx, tol);
    check_close("dense dkernel", dkernel, gdkernel, tol);
    check_close("dense dbias", dbias, gdbias, tol);
  }
}

TEMPLATE_TEST_CASE("backend: relu, add, add_relu, scale_shift, zero padding match the CPU exactly", "[backend][elementwise]",
                   float, double) {
  SKIP_WITHOUT_CUDA();
  using T = TestType;
  const Shape s{3, 4, 5, 7};
  const Tensor<T> a = random_tensor<T>(s, 5), b = random_tensor<T>(s, 6), dy = random_tensor<T>(s, 7);
  Tensor<T> relu_y(s), relu_dx(s), sum(s), sum_relu(s);
  relu_forward(a, relu_y);
  relu_backward(relu_y, dy, relu_dx);
  add_forward(a, b, sum);
  add_relu_forward(a, b, sum_relu);
  Tensor<T> g_relu_y = cuda_tensor<T>(s), g_relu_dx = cuda_tensor<T>(s), g_sum = cuda_tensor<T>(s),
            g_sum_relu = cuda_tensor<T>(s);
  const Tensor<T> ga = on_cuda(a), gb = on_cuda(b);
  relu_forward(ga, g_relu_y);
  relu_backward(g_relu_y, on_cuda(dy), g_relu_dx);
  add_forward(ga, gb, g_sum);
  add_relu_forward(ga, gb, g_sum_relu);
  check_close("relu y", relu_y, g_relu_y, 0);
  check_close("relu dx", relu_dx, g_relu_dx, 0);
  check_close("add", sum, g_sum, 0);
  check_close("add_relu", sum_relu, g_sum_relu, 0);

  Tensor<T> scaled(s), g_scaled = cuda_tensor<T>(s);
  scale_shift(a, T(0.125), T(-1.5), scaled);
  scale_shift(ga, T(0.125), T(-1.5), g_scaled);
  check_close("scale_shift", scaled, g_scaled, 0);

  const ExplicitPadding p{1, 2, 3, 0};
  const Shape padded{3, 4, 5 + 3, 7 + 3};
  const Tensor<T> dpadded = random_tensor<T>(padded, 8);
  Tensor<T> y(padded), dx(s), gy = cuda_tensor<T>(padded), gdx = cuda_tensor<T>(s);
  zero_pad2d_forward(a, y, p);
  zero_pad2d_backward(dpadded, dx, p);
  zero_pad2d_forward(ga, gy, p);
  zero_pad2d_backward(on_cuda(dpadded), gdx, p);
  check_close("zero_pad2d y", y, gy, 0);
  check_close("zero_pad2d dx", dx, gdx, 0);
}

TEMPLATE_TEST_CASE("backend: GELU forward and backward match the CPU", "[backend][elementwise][gelu]", float, double) {
  SKIP_WITHOUT_CUDA();
  using T = TestType;
  const double tol = std::is_same<T, float>::value ? 1e-6 : 1e-12;  // erf: Eigen's rational fit vs CUDA's erff
  const Shape s{3, 4, 5, 7};
  const Tensor<T> x = random_tensor<T>(s, 9, -5, 5), dy = random_tensor<T>(s, 10);
  Tensor<T> y(s), dx(s), gy = cuda_tensor<T>(s), gdx = cuda_tensor<T>(s);
  gelu_forward(x, y);
  gelu_backward(x, dy, dx);
  const Tensor<T> gx = on_cuda(x);
  gelu_forward(gx, gy);
  gelu_backward(gx, on_cuda(dy), gdx);
  check_close("gelu y", y, gy, tol);
  check_close("gelu dx", dx, gdx, tol);
}

TEMPLATE_TEST_CASE("backend: max pooling (with ties) and global average pooling match the CPU", "[backend][pooling]",
                   float, double) {
  SKIP_WITHOUT_CUDA();
  using T = TestType;
  struct Case {
    int n, c, h, w, pool, stride;
    Padding padding;
  };
  const Case cases[] = {{2, 3, 8, 8, 2, 2, Padding::valid}, {1, 2, 7, 9, 3, 2, Padding::valid},
                        {2, 2, 8, 8, 3, 2, Padding::same},  {1, 3, 5, 5, 2, 1, Padding::same},
                        {2, 1, 6, 6, 3, 1, Padding::same},  {1, 2, 9, 7, 3, 3, Padding::same}};
  for (const Case& k : cases) {
    const ConvGeometry g =
        make_conv_geometry("test", k.c, k.h, k.w, k.c, k.pool, k.pool, k.stride, k.stride, k.padding);
    const Shape xs{k.n, k.c, k.h, k.w}, ys{k.n, k.c, g.out_h, g.out_w};
    INFO("max pool " << k.pool << "/" << k.stride << " " << padding_name(k.padding) << " on " << xs);
    const Tensor<T> x = tied_tensor<T>(xs, 9), dy = random_tensor<T>(ys, 10);
    Tensor<T> y(ys), dx(xs);
    Tensor<std::int32_t> argmax(ys);
    max_pool2d_forward(x, y, argmax, g);
    max_pool2d_backward(x, y, dy, argmax, dx, g);
    const Tensor<T> gx = on_cuda(x);
    Tensor<T> gy = cuda_tensor<T>(ys), gdx = cuda_tensor<T>(xs);
    Tensor<std::int32_t> unused;  // the CUDA backward recomputes the winners
    max_pool2d_forward(gx, gy, unused, g);
    max_pool2d_backward(gx, gy, on_cuda(dy), unused, gdx, g);
    check_close("max_pool2d y", y, gy, 0);
    check_close("max_pool2d dx", dx, gdx, 0);
  }
  const Shape xs{3, 5, 7, 6};
  const Tensor<T> x = random_tensor<T>(xs, 11), dy = random_tensor<T>(Shape{3, 5}, 12);
  Tensor<T> y(Shape{3, 5}), dx(xs), gy = cuda_tensor<T>(Shape{3, 5}), gdx = cuda_tensor<T>(xs);
  global_average_pool_forward(x, y);
  global_average_pool_backward(dy, dx);
  global_average_pool_forward(on_cuda(x), gy);
  global_average_pool_backward(on_cuda(dy), gdx);
  check_close("global_average_pool y", y, gy, tolerance<T>(1e-6, 1e-12));
  check_close("global_average_pool dx", dx, gdx, 0);
}

TEMPLATE_TEST_CASE("backend: batch norm training and inference passes match the CPU", "[backend][batch_norm]", float,
                   double) {
  SKIP_WITHOUT_CUDA();
  using T = TestType;
  const double tol = tolerance<T>(1e-4, 1e-9), momentum = 0.9, epsilon = 1e-3;
  const Shape shapes[] = {Shape{4, 3, 5, 5}, Shape{8, 6}, Shape{1, 5}};  // [1,F]: one value per channel
  std::uint64_t seed = 100;
  for (const Shape& xs : shapes)
    for (const bool relu : {false, true}) {
      INFO("batch norm on " << xs << (relu ? " with a fused ReLU" : ""));
      const Shape cs{xs[1]};
      const Tensor<T> x = random_tensor<T>(xs, ++seed, -2, 3), dy = random_tensor<T>(xs, ++seed);
      const Tensor<T> gamma = random_tensor<T>(cs, ++seed, 0.5, 1.5), beta = random_tensor<T>(cs, ++seed);
      const Tensor<T> mean0 = random_tensor<T>(cs, ++seed), variance0 = random_tensor<T>(cs, ++seed, 0.5, 2);
      Tensor<T> mean = mean0.clone(), variance = variance0.clone(), y(xs), saved_mean(cs), saved_inv_std(cs);
      Tensor<T> dx(xs), dgamma(cs), dbeta(cs), y_inf(xs), dx_inf(xs), dgamma_inf(cs), dbeta_inf(cs);
      batch_norm_forward_training(x, gamma, beta, momentum, epsilon, mean, variance, y, saved_mean, saved_inv_std,
                                  relu);
      batch_norm_backward_training(x, dy, relu ? &y : nullptr, gamma, saved_mean, saved_inv_std, &dx, &dgamma, &dbeta);
      batch_norm_forward_inference(x, gamma, beta, mean0, variance0, epsilon, y_inf, relu);
      batch_norm_backward_inference(x, dy, relu ? &y_inf : nullptr, gamma, mean0, variance0, epsilon, &dx_inf,
                                    &dgamma_inf, &dbeta_inf);

      const Tensor<T> gx = on_cuda(x), gdy = on_cuda(dy), ggamma = on_cuda(gamma), gbeta = on_cuda(beta);
      Tensor<T> gmean = on_cuda(mean0), gvariance = on_cuda(variance0), gy = cuda_tensor<T>(xs),
                gsaved_mean = cuda_tensor<T>(cs), gsaved_inv_std = cuda_tensor<T>(cs), gdx = cuda_tensor<T>(xs),
                gdgamma = cuda_tensor<T>(cs), gdbeta = cuda_tensor<T>(cs), gy_inf = cuda_tensor<T>(xs),
                gdx_inf = cuda_tensor<T>(xs), gdgamma_inf = cuda_tensor<T>(cs), gdbeta_inf = cuda_tensor<T>(cs);
      batch_norm_forward_training(gx, ggamma, gbeta, momentum, epsilon, gmean, gvariance, gy, gsaved_mean,
                                  gsaved_inv_std, relu);
      batch_norm_backward_training(gx, gdy, relu ? &gy : nullptr, ggamma, gsaved_mean, gsaved_inv_std, &gdx, &gdgamma,
                                   &gdbeta);
      batch_norm_forward_inference(gx, ggamma, gbeta, on_cuda(mean0), on_cuda(variance0), epsilon, gy_inf, relu);
      batch_norm_backward_inference(gx, gdy, relu ? &gy_inf : nullptr, ggamma, on_cuda(mean0), on_cuda(variance0),
                                    epsilon, &gdx_inf, &gdgamma_inf, &gdbeta_inf);
      check_close("bn y", y, gy, tol);
      check_close("bn saved mean", saved_mean, gsaved_mean, tol);
      check_close("bn saved 1/std", saved_inv_std, gsaved_inv_std, tol);
      check_close("bn moving mean", mean, gmean, tol);
      check_close("bn moving variance (unbiased update)", variance, gvariance, tol);
      check_close("bn dx", dx, gdx, tol);
      check_close("bn dgamma", dgamma, gdgamma, tol);
      check_close("bn dbeta", dbeta, gdbeta, tol);
      check_close("bn inference y", y_inf, gy_inf, tol);
      check_close("bn inference dx", dx_inf, gdx_inf, tol);
      check_close("bn inference dgamma", dgamma_inf, gdgamma_inf, tol);
      check_close("bn inference dbeta", dbeta_inf, gdbeta_inf, tol);

      batch_norm_backward_training<T>(gx, gdy, relu ? &gy : nullptr, ggamma, gsaved_mean, gsaved_inv_std, nullptr,
                                      &gdgamma, nullptr);
      check_close("bn dgamma without dx and dbeta", dgamma, gdgamma, tol);
    }
}

TEMPLATE_TEST_CASE("backend: softmax cross-entropy matches the CPU", "[backend][loss]", float, double) {
  SKIP_WITHOUT_CUDA();
  using T = TestType;
  const double tol = tolerance<T>(1e-5, 1e-10);
  const std::int64_t N = 7, K = 10;
  const Tensor<T> logits = random_tensor<T>(Shape{N, K}, 50, -4, 4);
  const Tensor<T> soft = random_tensor<T>(Shape{N, K}, 51, 0, 1);  // rows not summing to 1: the general gradient
  for (double ls : {0.0, 0.1}) {
    INFO("label smoothing " << ls);
    Tensor<T> p(Shape{N, K}), rows(Shape{N}), d(Shape{N, K});
    const double loss = softmax_cross_entropy_forward(logits, soft, ls, p, rows);
    softmax_cross_entropy_backward(p, soft, ls, d);
    Tensor<T> gp = cuda_tensor<T>(Shape{N, K}), grows = cuda_tensor<T>(Shape{N}), gd = cuda_tensor<T>(Shape{N, K});
    const Tensor<T> gsoft = on_cuda(soft);
    const double gloss = softmax_cross_entropy_forward(on_cuda(logits), gsoft, ls, gp, grows);
    softmax_cross_entropy_backward(gp, gsoft, ls, gd);
    CHECK(std::abs(gloss - loss) <= tol * std::abs(loss));
    check_close("softmax probabilities", p, gp, tol);
    check_close("row losses", rows, grows, tol);
    check_close("dlogits", d, gd, tol);
  }
  // The loss object with integer labels: one-hot rows built on the host and uploaded.
  const std::vector<int> labels{3, 0, 9, 9, 1, 5, 2};
  SoftmaxCrossEntropy<T> cpu_loss(0.1), cuda_loss(0.1);
  const T l = cpu_loss.forward(logits, labels);
  const T gl = cuda_loss.forward(on_cuda(logits), labels);
  CHECK(std::abs(static_cast<double>(gl - l)) <= tol * std::abs(static_cast<double>(l)));
  check_close("loss class dlogits", cpu_loss.backward(), cuda_loss.backward(), tol);
}

TEMPLATE_TEST_CASE("backend: Adam and SGD updates and Lookahead's synchronisation match the CPU on a range", "[backend][optimizer]", float, double) {
  SKIP_WITHOUT_CUDA();
  using T = TestType;
  const double tol = tolerance<T>(1e-6, 1e-12);
  const Shape s{1000};
  const std::int64_t offset = 100, count = 601;
  const Tensor<T> p0 = random_tensor<T>(s, 60);
  Tensor<T> p = p0.clone(), m(s), v(s), gp = on_cuda(p0), gm = cuda_tensor<T>(s), gv = cuda_tensor<T>(s);
  for (int step = 1; step <= 3; ++step) {
    const Tensor<T> g = random_tensor<T>(s, 60 + step);
    const AdamCoefficients<T> c{T(0.9), T(0.999), static_cast<T>(1e-2 * std::sqrt(1 - std::pow(0.999, step)) /
                                                                 (1 - std::pow(0.9, step))),
                                T(1e-7), T(1e-4)};
    adam_update(p, g, m, v, offset, count, c);
    adam_update(gp, on_cuda(g), gm, gv, offset, count, c);
  }
  check_close("adam values", p, gp, tol);
  check_close("adam m", m, gm, tol);
  check_close("adam v", v, gv, tol);
  const Tensor<T> moved = on_host(gp);
  CHECK(moved[offset - 1] == p0[offset - 1]);
  CHECK(moved[offset + count] == p0[offset + count]);

  for (int variant = 0; variant < 3; ++variant) {  // no momentum, momentum, Nesterov
    INFO("SGD variant " << variant);
    const SgdCoefficients<T> c{T(0.05), T(variant ? 0.9 : 0), T(1e-3), variant == 2};
    Tensor<T> q = p0.clone(), velocity(s), gq = on_cuda(p0), gvelocity = cuda_tensor<T>(s);
    for (int step = 1; step <= 3; ++step) {
      const Tensor<T> g = random_tensor<T>(s, 70 + step);
      sgd_update(q, g, variant ? &velocity : nullptr, offset, count, c);
      sgd_update(gq, on_cuda(g), variant ? &gvelocity : nullptr, offset, count, c);
    }
    check_close("sgd values", q, gq, tol);
    if (variant) check_close("sgd velocity", velocity, gvelocity, tol);
  }

  Tensor<T> fast = random_tensor<T>(s, 80), slow = p0.clone(), gfast = on_cuda(fast), gslow = on_cuda(p0);
  lookahead_sync(fast, slow, offset, count, T(0.75));
  lookahead_sync(gfast, gslow, offset, count, T(0.75));
  check_close("lookahead slow", slow, gslow, tol);
  check_close("lookahead values", fast, gfast, tol);
}

TEMPLATE_TEST_CASE("backend: dropout draws the CPU's mask from the same generator", "[backend][dropout]", float,
                   double) {
  SKIP_WITHOUT_CUDA();
  using T = TestType;
  const Shape s{3, 4, 5, 6};
  const Tensor<T> x = random_tensor<T>(s, 80), dy = random_tensor<T>(s, 81);
  Rng cpu_rng(5), cuda_rng(5);
  Tensor<T> mask(s), y(s), dx(s), gmask = cuda_tensor<T>(s), gy = cuda_tensor<T>(s), gdx = cuda_tensor<T>(s);
  for (int round = 0; round < 2; ++round) {  // the second mask differs from the first on both
    dropout_forward(x, 0.3, cpu_rng, mask, y);
    dropout_forward(on_cuda(x), 0.3, cuda_rng, gmask, gy);
  }
  dropout_backward(mask, dy, dx);
  dropout_backward(gmask, on_cuda(dy), gdx);
  check_close("dropout mask", mask, gmask, 0);
  check_close("dropout y", y, gy, 0);
  check_close("dropout dx", dx, gdx, 0);
  CHECK(cpu_rng.state() == cuda_rng.state());
}

TEST_CASE("backend: device copies, host-only members and Layer::to", "[backend][memory]") {
#ifndef TINYNET_WITH_CUDNN
  // Without the backend, asking for the device is a clear Error (this part runs everywhere).
  CHECK_THROWS_WITH(to_device(Tensor<float>(Shape{3}), Device::cuda), Catch::Contains("TINYNET_WITH_CUDNN"));
  Dense<float> dense(2);
  dense.build_once(Shape{3});
  CHECK_THROWS_WITH(dense.to(Device::cuda), Catch::Contains("TINYNET_WITH_CUDNN"));
#endif
  SKIP_WITHOUT_CUDA();
  const Tensor<float> x = random_tensor<float>(Shape{2, 3, 4, 5}, 90);
  Tensor<float> gx = on_cuda(x);
  CHECK(gx.device() == Device::cuda);
  CHECK(gx.shape() == x.shape());
  check_close("round trip", x, gx, 0);
  CHECK_THROWS_WITH(gx.fill(1), Catch::Contains("Tensor::fill") && Catch::Contains("cuda"));
  CHECK_THROWS_WITH(gx.clone(), Catch::Contains("Tensor::clone"));
  CHECK_THROWS_WITH(gx.at(0, 0, 0, 0), Catch::Contains("Tensor::at"));
  Tensor<float> host(x.shape());
  CHECK_THROWS_WITH(host.copy_from(gx), Catch::Contains("Tensor::copy_from"));
  CHECK_THROWS_WITH(relu_forward(gx, host), Catch::Contains("different devices"));

  auto model = make_notebook_cnn<float>(10, 3);
  model->setup(Shape{3, 32, 32}, 4);
  const Tensor<float> before = model->parameters().values().clone();
  model->to(Device::cuda);
  CHECK(model->device() == Device::cuda);
  CHECK(model->layer(0).parameters().values().device() == Device::cuda);
  model->to(Device::cpu);
  check_close("parameters after cuda and back", before, model->parameters().values(), 0);
}

#ifdef TINYNET_WITH_CUDNN
TEST_CASE("backend: the caching allocator reuses released blocks", "[backend][memory]") {
  SKIP_WITHOUT_CUDA();
  auto& allocator = cudnn::caching_device_allocator();
  const void* first = nullptr;
  {
    Tensor<float> t(Shape{1000, 1000}, Device::cuda);
    first = t.data();
  }
  const auto before = allocator.stats();
  Tensor<float> again(Shape{1000, 1000}, Device::cuda);
  CHECK(again.data() == first);
  CHECK(allocator.stats().device_allocations == before.device_allocations);
  check_close("a reused block is zero-filled", Tensor<float>(Shape{1000, 1000}), again, 0);
}

TEST_CASE("backend: DeviceBatchUploader delivers each staged batch intact", "[backend][memory]") {
  SKIP_WITHOUT_CUDA();
  std::vector<Tensor<float>> batches;
  for (int k = 0; k < 5; ++k) batches.push_back(random_tensor<float>(Shape{k == 4 ? 3 : 8, 3, 16, 16}, 200 + k));
  cudnn::DeviceBatchUploader<float> uploader;
  uploader.stage(batches[0]);
  for (std::size_t k = 0; k < batches.size(); ++k) {
    const Tensor<float>& x = uploader.take();
    if (k + 1 < batches.size()) uploader.stage(batches[k + 1]);
    Tensor<float> y(x.shape(), Device::cuda), expected(x.shape());
    relu_forward(x, y);  // compute on the batch while the next one uploads
    relu_forward(batches[k], expected);
    check_close("uploaded batch", batches[k], x, 0);
    check_close("computed on the uploaded batch", expected, y, 0);
  }
  CHECK_THROWS_WITH(uploader.take(), Catch::Contains("no batch staged"));
}
#endif

namespace {

// ensures: the notebook CNN, or ResNet50 (global pooling) with a 10-way Dense head.
template <class T>
std::unique_ptr<Sequential<T>> make_model(const std::string& name) {
  if (name == "notebook_cnn") return make_notebook_cnn<T>(10, 11);
  auto net = std::make_unique<Sequential<T>>("resnet50_classifier");
  net->add(make_resnet50<T>());
  net->template add<Dense<T>>(10);
  return net;
}

// ensures: `steps` SGD (momentum) steps of the same model, initialised alike, on the CPU and
// on CUDA with the same batches; CHECKs the losses and the final parameters (weights and BN
// statistics) agree within tol.
template <class T>
void check_training_matches(const std::string& name, const Shape& sample, int batch, int steps, double tol) {
  auto cpu_model = make_model<T>(name), cuda_model = make_model<T>(name);
  cpu_model->setup(sample, 21);
  cuda_model->setup(sample, 21);
  cuda_model->to(Device::cuda);
  SGD<T> cpu_sgd(SgdOptions{0.01, 0.9}), cuda_sgd(SgdOptions{0.01, 0.9});
  SoftmaxCrossEntropy<T> cpu_loss, cuda_loss;
  Rng rng(22);
  for (int step = 0; step < steps; ++step) {
    const Tensor<T> x = random_tensor<T>(sample.prepend(batch), 300 + step);
    std::vector<int> labels;
    for (int i = 0; i < batch; ++i) labels.push_back(static_cast<int>(rng.below(10)));
    const T cpu_value = cpu_loss.forward(cpu_model->forward(x), labels);
    cpu_model->backward(cpu_loss.backward());
    cpu_sgd.step(*cpu_model);
    const T cuda_value = cuda_loss.forward(cuda_model->forward(on_cuda(x)), labels);
    cuda_model->backward(cuda_loss.backward());
    cuda_sgd.step(*cuda_model);
    INFO(name << " step " << step << ": loss cpu " << cpu_value << " cuda " << cuda_value);
    CHECK(std::abs(static_cast<double>(cuda_value - cpu_value)) <= tol * std::abs(static_cast<double>(cpu_value)));
  }
  check_close(name + " parameters after training", cpu_model->parameters().values(),
              cuda_model->parameters().values(), tol);
}

}  // namespace

TEMPLATE_TEST_CASE("backend: notebook CNN training steps match the CPU", "[backend][model]", float, double) {
  SKIP_WITHOUT_CUDA();
  check_training_matches<TestType>("notebook_cnn", Shape{3, 32, 32}, 8, 3, tolerance<TestType>(1e-3, 1e-8));
}

TEST_CASE("backend: ResNet50 (32x32) training steps match the CPU", "[backend][model]") {
  SKIP_WITHOUT_CUDA();
  check_training_matches<float>("resnet50", Shape{3, 32, 32}, 4, 2, 1e-3);
}

// ---- hidden cases for a GPU machine (tests/gpu/run_on_device.sh) ----

namespace {
int env_int(const char* name, int fallback) {
  const char* value = std::getenv(name);
  return value ? std::atoi(value) : fallback;
}

// ensures: images per second of Adam training steps of `name` at (batch, size) on `device`.
double training_images_per_second(const std::string& name, Device device, int batch, int size, int steps) {
  auto model = make_model<float>(name);
  model->setup(Shape{3, size, size}, 1);
  model->to(device);
  Adam<float> adam;
  SoftmaxCrossEntropy<float> loss;
  const Tensor<float> x = to_device(random_tensor<float>(Shape{batch, 3, size, size}, 1), device);
  std::vector<int> labels(static_cast<std::size_t>(batch));
  for (int i = 0; i < batch; ++i) labels[static_cast<std::size_t>(i)] = i % 10;
  auto step = [&] {
    loss.forward(model->forward(x), labels);  // returns the loss: waits for the device
    model->backward(loss.backward());
    adam.step(*model);
  };
  for (int i = 0; i < 3; ++i) step();  // algorithm search, allocations
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < steps; ++i) step();
  loss.forward(model->forward(x), labels);  // drains the last step's update
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return batch * static_cast<double>(steps) / seconds;
}
}  // namespace

TEST_CASE("gpu benchmark: training images/s of both models", "[.gpu-bench]") {
  SKIP_WITHOUT_CUDA();
  struct Run {
    const char* model;
    int batch, size;
  };
  const Run runs[] = {
      {"notebook_cnn", env_int("TINYNET_BENCH_CNN_BATCH", 128), 32},
      {"resnet50", env_int("TINYNET_BENCH_RESNET_BATCH", 64), env_int("TINYNET_BENCH_RESNET_SIZE", 224)}};
  const int steps = env_int("TINYNET_BENCH_STEPS", 20);
  for (const Run& r : runs) {
    const double rate = training_images_per_second(r.model, Device::cuda, r.batch, r.size, steps);
    std::printf("tinynet cuda %s train batch=%d size=%d images_per_s=%.1f\n", r.model, r.batch, r.size, rate);
    CHECK(rate > 0);
  }
}

#ifdef TINYNET_WITH_CUDNN
TEST_CASE("gpu CIFAR-10 subset: the notebook CNN learns on the GPU", "[.gpu-cifar]") {
  SKIP_WITHOUT_CUDA();
  const char* dir_env = std::getenv("TINYNET_CIFAR_DIR");
  const std::string dir = dir_env ? find_cifar_binary_dir(dir_env) : "";
  if (dir.empty()) {
    WARN("SKIPPED: set TINYNET_CIFAR_DIR to the CIFAR-10 binary release (cifar-10-batches-bin)");
    return;
  }
  const auto names = cifar10_default_class_names();
  const ImageDataset train = read_cifar_batch_file(dir + "/data_batch_1.bin", names);
  const ImageDataset test = read_cifar_batch_file(dir + "/test_batch.bin", names);
  const std::int64_t train_count = env_int("TINYNET_CIFAR_TRAIN", 5000), test_count = 1000, batch = 64;
  auto images = [](const ImageDataset& d, std::int64_t first, std::int64_t count) {
    Tensor<float> x(Shape{count, 3, 32, 32});
    const std::uint8_t* src = d.images.data() + first * 3 * 32 * 32;
    for (std::int64_t i = 0; i < x.numel(); ++i) x[i] = src[i] / 255.0f;
    return x;
  };
  auto model = make_notebook_cnn<float>(10, 1);
  model->setup(Shape{3, 32, 32}, 1);
  model->to(Device::cuda);
  Adam<float> adam;
  SoftmaxCrossEntropy<float> loss;
  cudnn::DeviceBatchUploader<float> uploader;
  double accuracy = 0;
  for (int epoch = 1; epoch <= env_int("TINYNET_CIFAR_EPOCHS", 3); ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    model->set_training(true);
    double loss_sum = 0;
    const std::int64_t batches = train_count / batch;
    uploader.stage(images(train, 0, batch));
    for (std::int64_t b = 0; b < batches; ++b) {
      const Tensor<float>& x = uploader.take();
      if (b + 1 < batches) uploader.stage(images(train, (b + 1) * batch, batch));
      const std::vector<int> labels(train.labels.begin() + b * batch, train.labels.begin() + (b + 1) * batch);
      loss_sum += loss.forward(model->forward(x), labels);
      model->backward(loss.backward());
      adam.step(*model);
    }
    model->set_training(false);
    std::int64_t correct = 0;
    for (std::int64_t first = 0; first < test_count; first += batch) {
      const std::int64_t n = std::min(batch, test_count - first);
      const Tensor<float> logits = on_host(model->forward(on_cuda(images(test, first, n))));
      for (std::int64_t i = 0; i < n; ++i) {
        const float* row = logits.data() + i * 10;
        correct += std::max_element(row, row + 10) - row == test.labels[static_cast<std::size_t>(first + i)];
      }
    }
    accuracy = static_cast<double>(correct) / static_cast<double>(test_count);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("cifar subset epoch %d: train loss %.4f, test accuracy %.3f, %.1f s\n", epoch, loss_sum / batches,
                accuracy, seconds);
  }
  CHECK(accuracy > 0.3);  // chance is 0.1
}
#endif
