#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "conv_path_helpers.hpp"
#include "layer_test_helpers.hpp"
#include "test_support.hpp"
#include "tinynet/backend/cpu/conv2d.hpp"
#include "tinynet/core/threading.hpp"
#include "tinynet/layers/batch_norm.hpp"
#include "tinynet/layers/conv2d.hpp"

using namespace tinynet;
using tinynet_test::converted;
using tinynet_test::error_message;
using tinynet_test::random_tensor;
using tinynet_test::require_gradients_match;

TEST_CASE("Conv2D forward matches a hand-computed 3x3 case", "[conv2d]") {
  // 1 input channel 3x3, one 2x2 filter, valid, stride 1.
  Conv2D<double> conv(1, 2, 1, Padding::valid);
  conv.build_once(Shape{1, 3, 3});
  conv.kernel().copy_from(Tensor<double>(Shape{4}, {1, 2, 3, 4}));
  conv.bias().fill(0.5);
  Tensor<double> x(Shape{1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  const auto& y = conv.forward(x);
  REQUIRE(y.shape() == Shape{1, 1, 2, 2});
  CHECK(y[0] == Approx(1 * 1 + 2 * 2 + 4 * 3 + 5 * 4 + 0.5));
  CHECK(y[1] == Approx(2 * 1 + 3 * 2 + 5 * 3 + 6 * 4 + 0.5));
  CHECK(y[2] == Approx(4 * 1 + 5 * 2 + 7 * 3 + 8 * 4 + 0.5));
  CHECK(y[3] == Approx(5 * 1 + 6 * 2 + 8 * 3 + 9 * 4 + 0.5));
}

TEST_CASE("'same' padding splits like TensorFlow: the odd pixel goes bottom/right", "[conv2d]") {
  // 4x4 input, 2x2 kernel, stride 1: total pad 1 -> top/left 0, bottom/right 1.
  auto g = make_conv_geometry("t", 1, 4, 4, 1, 2, 2, 1, 1, Padding::same);
  CHECK(g.out_h == 4);
  CHECK(g.pad_top == 0);
  CHECK(g.pad_bottom == 1);
  // 5x5 input, 3x3 kernel, stride 2 -> out 3, total pad (3-1)*2+3-5 = 2 -> 1/1.
  g = make_conv_geometry("t", 1, 5, 5, 1, 3, 3, 2, 2, Padding::same);
  CHECK(g.out_w == 3);
  CHECK(g.pad_left == 1);
  CHECK(g.pad_right == 1);
  // 6x6, 3x3, stride 2 -> out 3, total pad 1 -> 0 left, 1 right.
  g = make_conv_geometry("t", 1, 6, 6, 1, 3, 3, 2, 2, Padding::same);
  CHECK(g.pad_left == 0);
  CHECK(g.pad_right == 1);

  // The value check: all-ones 2x2 kernel over a 2x2 input with 'same' sums the bottom-right window.
  Conv2D<double> conv(1, 2, 1, Padding::same, false);
  conv.build_once(Shape{1, 2, 2});
  conv.kernel().fill(1);
  Tensor<double> x(Shape{1, 1, 2, 2}, {1, 2, 3, 4});
  const auto& y = conv.forward(x);
  CHECK(y[0] == 10);  // window at (0,0) covers all four pixels
  CHECK(y[1] == 2 + 4);
  CHECK(y[2] == 3 + 4);
  CHECK(y[3] == 4);
}

TEST_CASE("Conv2D gradients at many shapes", "[conv2d][gradcheck]") {
  struct Case {
    int n, c, h, w, filters, k, stride;
    Padding pad;
  };
  const Case cases[] = {
      {2, 3, 5, 5, 4, 3, 1, Padding::same},  {1, 3, 7, 6, 5, 3, 2, Padding::same},
      {2, 5, 6, 7, 3, 3, 1, Padding::valid}, {3, 2, 9, 9, 6, 3, 2, Padding::valid},
      {1, 7, 4, 4, 9, 1, 1, Padding::valid}, {2, 3, 7, 7, 4, 7, 2, Padding::same},
      {2, 4, 5, 6, 3, 1, 2, Padding::same},
  };
  for (const auto& cs : cases) {
    SECTION("case n" + std::to_string(cs.n) + " c" + std::to_string(cs.c) + " " + std::to_string(cs.h) + "x" +
            std::to_string(cs.w) + " k" + std::to_string(cs.k) + " s" + std::to_string(cs.stride) + " " +
            padding_name(cs.pad)) {
      Conv2D<double> conv(cs.filters, cs.k, cs.stride, cs.pad);
      require_gradients_match(conv, random_tensor(Shape{cs.n, cs.c, cs.h, cs.w}, 11));
    }
  }
  SECTION("explicit asymmetric padding, no bias") {
    Conv2D<double> conv(3, 2, 3, Conv2DOptions{2, 1, Padding::explicit_amounts, {1, 0, 2, 1}, false});
    require_gradients_match(conv, random_tensor(Shape{2, 3, 5, 6}, 12));
  }
}

TEST_CASE("Conv2D rejects wrong input shapes with a clear message", "[conv2d]") {
  Conv2D<float> conv(8, 3);
  conv.set_name("conv1");
  conv.build_once(Shape{3, 32, 32});
  Tensor<float> wrong(Shape{2, 4, 32, 32});
  CHECK_THROWS_WITH(conv.forward(wrong), Catch::Contains("conv1") && Catch::Contains("[2,4,32,32]") &&
                                             Catch::Contains("[N,3,32,32]"));
  Conv2D<float> big(8, 5, 1, Padding::valid);
  CHECK_THROWS_WITH(big.build_once(Shape{3, 4, 4}), Catch::Contains("smaller than the kernel"));
}

namespace {
// The convolution by its definition, one output at a time (the reference for the slabs).
struct DirectConv {
  const tinynet::ConvGeometry& g;
  // ensures: calls f(x index, kernel index, y index) for every product of the convolution.
  template <class F>
  void for_each_product(std::int64_t batch, F&& f) const {
    for (std::int64_t n = 0; n < batch; ++n)
      for (std::int64_t oc = 0; oc < g.out_channels; ++oc)
        for (std::int64_t oh = 0; oh < g.out_h; ++oh)
          for (std::int64_t ow = 0; ow < g.out_w; ++ow)
            for (std::int64_t c = 0; c < g.channels; ++c)
              for (int i = 0; i < g.kernel_h; ++i)
                for (int j = 0; j < g.kernel_w; ++j) {
                  const std::int64_t ih = oh * g.stride_h - g.pad_top + i, iw = ow * g.stride_w - g.pad_left + j;
                  if (ih < 0 || ih >= g.in_h || iw < 0 || iw >= g.in_w) continue;
                  f(((n * g.channels + c) * g.in_h + ih) * g.in_w + iw,
                    ((oc * g.channels + c) * g.kernel_h + i) * g.kernel_w + j,
                    ((n * g.out_channels + oc) * g.out_h + oh) * g.out_w + ow);
                }
  }
};

void require_close(const char* what, const Tensor<double>& expected, const Tensor<double>& actual) {
  REQUIRE(expected.numel() == actual.numel());
  double worst = 0;
  for (std::int64_t i = 0; i < expected.numel(); ++i)
    worst = std::max(worst, std::abs(expected[i] - actual[i]) / (1 + std::abs(expected[i])));
  INFO(what << ": worst relative difference " << worst);
  CHECK(worst < 1e-12);
}
}  // namespace

TEST_CASE("CPU convolution kernels match the direct definition across slab layouts and thread counts",
          "[conv2d][backend]") {
  struct Case {
    const char* what;
    std::int64_t batch, channels, h, w, out_channels;
    int kernel, stride;
    Padding padding;
  };
  // Chosen to cover: several samples per slab with a short last slab; few samples
  // per slab and several slabs per thread; the deep-layer path (whole-batch kernel gradient); stride 2;
  // pointwise convolutions on both sides of min_pixels_for_pointwise_gemms, down to the
  // planes of 36, 16, 9 and 4 values of ResNet50's deep stages.
  const Case cases[] = {{"7 samples, 3x3 same", 7, 3, 16, 16, 4, 3, 1, Padding::same},
                        {"9 samples of 8x32x32, several slabs per thread", 9, 8, 32, 32, 5, 3, 1, Padding::valid},
                        {"deep: 16 channels at 2x2", 3, 16, 2, 2, 32, 3, 1, Padding::same},
                        {"stride 2, 1x1", 5, 6, 9, 7, 3, 1, 2, Padding::valid},
                        {"1x1 stride 1 on 8x8: per-sample GEMMs on x, dy and dx themselves", 5, 6, 8, 8, 4, 1, 1, Padding::valid},
                        {"1x1 on 8x8, 2 samples: a thread with none", 2, 6, 8, 8, 4, 1, 1, Padding::valid},
                        {"1x1 stride 1 on 7x7: too few pixels, copied patches", 5, 6, 7, 7, 4, 1, 1, Padding::valid},
                        {"1x1 on 2x2: planes of 4", 5, 6, 2, 2, 4, 1, 1, Padding::valid},
                        {"1x1 on 3x3: planes of 9", 5, 6, 3, 3, 4, 1, 1, Padding::valid},
                        {"1x1 on 4x4: planes of 16", 3, 5, 4, 4, 6, 1, 1, Padding::valid},
                        {"1x1 on 6x6: planes of 36", 3, 5, 6, 6, 6, 1, 1, Padding::valid},
                        {"stride 2, 3x3 same, odd sizes", 4, 2, 11, 9, 3, 3, 2, Padding::same}};
  const int threads_before = num_threads();
  for (const Case& k : cases) {
    const ConvGeometry g = make_conv_geometry("test", k.channels, k.h, k.w, k.out_channels, k.kernel, k.kernel,
                                              k.stride, k.stride, k.padding);
    const tinynet_test::ConvInputs inputs(g, k.batch, 81);
    const Tensor<double>&x = inputs.x, &kernel = inputs.kernel, &bias = inputs.bias, &dy = inputs.dy;
    Tensor<double> y_ref(dy.shape()), dx_ref(x.shape()), dk_ref(kernel.shape()), db_ref(bias.shape());
    for (std::int64_t i = 0; i < y_ref.numel(); ++i) y_ref[i] = bias[(i / g.out_pixels()) % k.out_channels];
    for (std::int64_t i = 0; i < dy.numel(); ++i) db_ref[(i / g.out_pixels()) % k.out_channels] += dy[i];
    DirectConv{g}.for_each_product(k.batch, [&](std::int64_t xi, std::int64_t ki, std::int64_t yi) {
      y_ref[yi] += x[xi] * kernel[ki];
      dx_ref[xi] += dy[yi] * kernel[ki];
      dk_ref[ki] += dy[yi] * x[xi];
    });
    for (int threads : {1, 2, 3}) {
      set_num_threads(threads);
      INFO(k.what << ", " << threads << " threads");
      cpu::ConvWorkspace<double> ws;
      Tensor<double> y(dy.shape()), dx(x.shape()), dk(kernel.shape()), db(bias.shape());
      cpu::conv2d_forward(x, kernel, bias, y, g, ws);
      cpu::conv2d_backward(x, kernel, dy, &dx, &dk, &db, g, ws);
      require_close("y", y_ref, y);
      require_close("dx", dx_ref, dx);
      require_close("dkernel", dk_ref, dk);
      require_close("dbias", db_ref, db);
      Tensor<double> dk_only(kernel.shape());
      Tensor<double>* const not_wanted = nullptr;
      cpu::conv2d_backward(x, kernel, dy, not_wanted, &dk_only, not_wanted, g, ws);
      require_close("dkernel alone", dk_ref, dk_only);
      Tensor<double> dx_only(x.shape());
      cpu::conv2d_backward(x, kernel, dy, &dx_only, not_wanted, not_wanted, g, ws);
      require_close("dx alone", dx_ref, dx_only);
    }
  }
  set_num_threads(threads_before);
}

TEST_CASE("Pointwise convolutions in float, x read in place by the packed GEMM, equal the double result",
          "[conv2d][backend]") {
  // 40 -> 38 channels: partial 6-row slivers; planes of 144, 49, 36, 9 and 4 pixels: 16-column
  // panels straddling samples; 9 samples of 2x2: the whole-batch kernel gradient. Planes of 144
  // and 81 pixels: per-sample products read and written in place (y, dx, and dy for dkernel),
  // by the packed GEMM where it suits (with AVX-512, 128 output channels or more: 130).
  struct Case {
    std::int64_t batch, side, out_channels;
  };
  const Case cases[] = {{3, 12, 38}, {5, 7, 38}, {4, 6, 38}, {7, 3, 38}, {9, 2, 38}, {3, 12, 130}, {2, 9, 130}};
  const int threads_before = num_threads();
  for (const Case& k : cases) {
    const std::int64_t oc = k.out_channels;
    const ConvGeometry g = make_conv_geometry("test", 40, k.side, k.side, oc, 1, 1, 1, 1, Padding::valid);
    CHECK(cpu::computes_per_sample<float>(g) == (k.side >= 8));
    const Tensor<double> x = random_tensor(Shape{k.batch, 40, k.side, k.side}, 91);
    const Tensor<double> kernel = random_tensor(Shape{oc, 40, 1, 1}, 92);
    const Tensor<double> bias = random_tensor(Shape{oc}, 93);
    const Tensor<double> dy = random_tensor(Shape{k.batch, oc, k.side, k.side}, 94);
    const tinynet_test::ConvResults<double> expected =
        tinynet_test::run_conv(cpu::ConvAlgorithm::im2col, g, x, kernel, bias, dy);
    for (int threads : {1, 2}) {
      set_num_threads(threads);
      INFO(k.batch << " samples of " << k.side << "x" << k.side << " -> " << oc << ", " << threads << " threads");
      const tinynet_test::ConvResults<float> got = tinynet_test::run_conv(
          cpu::ConvAlgorithm::im2col, g, converted<float>(x), converted<float>(kernel), converted<float>(bias),
          converted<float>(dy));
      CHECK(tinynet_test::relative_difference(expected.y, got.y) < 1e-6);
      CHECK(tinynet_test::relative_difference(expected.dx, got.dx) < 1e-6);
      CHECK(tinynet_test::relative_difference(expected.dkernel, got.dkernel) < 1e-6);
      CHECK(tinynet_test::relative_difference(expected.dbias, got.dbias) < 1e-6);
    }
  }
  set_num_threads(threads_before);
}

TEST_CASE("Conv2D with a folded batch norm equals Conv2D -> BatchNorm (inference) -> ReLU", "[conv2d][batch_norm]") {
  struct Case {
    int n, c, h, w, filters, kernel, stride;
    Padding padding;
    bool bias, relu;
  };
  const Case cases[] = {{2, 5, 6, 6, 7, 1, 1, Padding::valid, true, true},
                        {3, 4, 7, 5, 6, 3, 2, Padding::same, true, false},
                        {1, 3, 5, 5, 4, 3, 1, Padding::same, false, true}};
  std::uint64_t seed = 60;
  for (const Case& k : cases) {
    INFO("kernel " << k.kernel << "/" << k.stride << " bias " << k.bias << " relu " << k.relu);
    Conv2D<double> conv(k.filters, k.kernel, k.stride, k.padding, k.bias);
    BatchNorm<double> bn(BatchNormOptions{0.99, 1.001e-5, k.relu}), plain(BatchNormOptions{0.99, 1.001e-5, false});
    const Shape out = conv.build_once(Shape{k.c, k.h, k.w});
    bn.build_once(out);
    plain.build_once(out);
    conv.kernel().copy_from(random_tensor<double>(conv.kernel().shape(), ++seed));
    if (k.bias) conv.bias().copy_from(random_tensor<double>(Shape{k.filters}, ++seed));
    bn.gamma().copy_from(random_tensor<double>(Shape{k.filters}, ++seed, 0.5, 1.5));
    bn.beta().copy_from(random_tensor<double>(Shape{k.filters}, ++seed));
    bn.moving_mean().copy_from(random_tensor<double>(Shape{k.filters}, ++seed));
    bn.moving_variance().copy_from(random_tensor<double>(Shape{k.filters}, ++seed, 0.1, 3));
    plain.parameters().values().copy_from(bn.parameters().values());  // one buffer per layer
    bn.set_training(false);
    plain.set_training(false);
    const Tensor<double> x = random_tensor<double>(Shape{k.n, k.c, k.h, k.w}, ++seed);

    Tensor<double> expected = plain.forward(conv.forward(x)).clone();
    if (k.relu)
      for (double& v : expected) v = std::max(v, 0.0);
    const FoldedBatchNorm<double> fold{bn.gamma(), bn.beta(), bn.moving_mean(), bn.moving_variance(), bn.epsilon(),
                                       bn.relu()};
    const Tensor<double>& folded = conv.forward_with_batch_norm(x, fold);
    REQUIRE(folded.shape() == expected.shape());
    for (std::int64_t i = 0; i < folded.numel(); ++i) REQUIRE(folded[i] == Approx(expected[i]).margin(1e-12));
    CHECK_THAT(error_message([&] { conv.backward(folded); }), Catch::Contains("backward() needs a forward() first"));
  }
  Conv2D<double> conv(4, 3);
  conv.build_once(Shape{2, 5, 5});
  const Tensor<double> three(Shape{3}), four(Shape{4});
  CHECK_THAT(error_message([&] {
               conv.forward_with_batch_norm(Tensor<double>(Shape{1, 2, 5, 5}),
                                            FoldedBatchNorm<double>{four, four, three, four, 1e-3, false});
             }),
             Catch::Contains("cannot fold a batch norm over 3 channels") && Catch::Contains("4 filters"));
}
