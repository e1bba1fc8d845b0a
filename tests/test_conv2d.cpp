#include <catch2/catch.hpp>

#include "layer_test_helpers.hpp"
#include "tinynet/layers/conv2d.hpp"

using namespace tinynet;
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
