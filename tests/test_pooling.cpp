#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "layer_test_helpers.hpp"
#include "tinynet/backend/cpu/pooling.hpp"
#include "tinynet/layers/global_average_pooling2d.hpp"
#include "tinynet/layers/max_pool2d.hpp"

using namespace tinynet;
using tinynet_test::random_tensor;
using tinynet_test::require_gradients_match;

TEST_CASE("MaxPool2D forward values, Keras defaults", "[pooling]") {
  MaxPool2D<double> pool;  // 2x2, stride 2, valid
  pool.build_once(Shape{1, 4, 4});
  Tensor<double> x(Shape{1, 1, 4, 4}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16});
  const auto& y = pool.forward(x);
  REQUIRE(y.shape() == Shape{1, 1, 2, 2});
  CHECK(y[0] == 6);
  CHECK(y[1] == 8);
  CHECK(y[2] == 14);
  CHECK(y[3] == 16);
  CHECK(pool.type() == "MaxPooling2D");

  // Valid padding drops the odd last row/column; the ResNet stem pool is 3x3/2.
  MaxPool2D<float> odd;
  CHECK(odd.build_once(Shape{3, 5, 5}) == Shape{3, 2, 2});
  MaxPool2D<float> stem(3, 2);
  CHECK(stem.build_once(Shape{64, 114, 114}) == Shape{64, 56, 56});
}

TEST_CASE("MaxPool2D 'same' padding: padded cells never win", "[pooling]") {
  // 3x3 all-negative plane, 2x2/2 same: out 2x2, the odd padding row/column at the bottom/right.
  MaxPool2D<double> pool(2, Padding::same);
  REQUIRE(pool.build_once(Shape{1, 3, 3}) == Shape{1, 2, 2});
  CHECK(pool.geometry().pad_top == 0);
  CHECK(pool.geometry().pad_bottom == 1);
  Tensor<double> x(Shape{1, 1, 3, 3}, {-9, -8, -7, -6, -5, -4, -3, -2, -1});
  const auto& y = pool.forward(x);
  CHECK(y[0] == -5);  // rows 0-1, cols 0-1
  CHECK(y[1] == -4);  // rows 0-1, col 2 (col 3 is padding)
  CHECK(y[2] == -2);  // row 2 (row 3 is padding), cols 0-1
  CHECK(y[3] == -1);  // the corner cell alone

  // 3x3/2 same on 4x4 pads 0 top/left and 1 bottom/right as TensorFlow does.
  MaxPool2D<double> p3(3, 2, Padding::same);
  REQUIRE(p3.build_once(Shape{2, 4, 4}) == Shape{2, 2, 2});
  CHECK(p3.geometry().pad_left == 0);
  CHECK(p3.geometry().pad_right == 1);
}

TEST_CASE("MaxPool2D backward routes each gradient to its window's maximum", "[pooling]") {
  // Overlapping 1x2 windows, stride 1: {1,5,2,3} -> {5,5,3}; dy {1,2,3} -> dx {0,3,0,3}.
  MaxPool2D<double> pool(1, 2, 1, 1);
  pool.build_once(Shape{1, 1, 4});
  Tensor<double> x(Shape{1, 1, 1, 4}, {1, 5, 2, 3});
  const auto& y = pool.forward(x);
  REQUIRE(y.shape() == Shape{1, 1, 1, 3});
  CHECK(y[0] == 5);
  CHECK(y[1] == 5);
  CHECK(y[2] == 3);
  const auto& dx = pool.backward(Tensor<double>(Shape{1, 1, 1, 3}, {1, 2, 3}));
  CHECK(dx[0] == 0);
  CHECK(dx[1] == 3);
  CHECK(dx[2] == 0);
  CHECK(dx[3] == 3);
}

TEST_CASE("MaxPool2D gradients at many shapes", "[pooling][gradcheck]") {
  struct Case {
    int n, c, h, w, ph, pw, sh, sw;
    Padding pad;
  };
  const Case cases[] = {
      {2, 3, 5, 5, 2, 2, 2, 2, Padding::valid}, {1, 5, 7, 6, 3, 3, 2, 2, Padding::same},
      {2, 3, 6, 7, 3, 3, 2, 2, Padding::valid}, {3, 2, 5, 4, 2, 2, 1, 1, Padding::same},
      {1, 9, 4, 5, 2, 3, 1, 2, Padding::same},  {2, 10, 3, 3, 3, 3, 1, 1, Padding::valid},
  };
  for (const auto& cs : cases) {
    SECTION("n" + std::to_string(cs.n) + " c" + std::to_string(cs.c) + " " + std::to_string(cs.h) + "x" +
            std::to_string(cs.w) + " pool " + std::to_string(cs.ph) + "x" + std::to_string(cs.pw) + " stride " +
            std::to_string(cs.sh) + "x" + std::to_string(cs.sw) + " " + padding_name(cs.pad)) {
      MaxPool2D<double> pool(cs.ph, cs.pw, cs.sh, cs.sw, cs.pad);
      require_gradients_match(pool, random_tensor(Shape{cs.n, cs.c, cs.h, cs.w}, 31));
    }
  }
}

// ensures: max_pool_plane_2x2 (T = float: its AVX2 loop where built) equals the general
// window loop on planes of few distinct values (many ties) and some NaNs, bit for bit.
template <class T>
void check_plain_2x2_pool_loop() {
  std::mt19937 random(7);
  std::uniform_int_distribution<int> level(0, 4);  // few distinct values: many ties; 4: NaN
  for (Shape sample : {Shape{3, 4, 4}, Shape{2, 5, 7}, Shape{1, 31, 31}, Shape{2, 8, 3}, Shape{2, 6, 34},
                       Shape{1, 3, 17}, Shape{1, 4, 32}, Shape{2, 4, 10}, Shape{1, 6, 22}}) {
    for (Padding padding : {Padding::valid, Padding::same}) {
      MaxPool2D<T> pool(2, padding);
      pool.build_once(sample);
      const ConvGeometry& g = pool.geometry();
      INFO(sample << " " << padding_name(padding) << " " << sizeof(T) << "-byte values");
      // 'same' on an odd side pads a last window: the general loop handles it
      const bool odd_same = padding == Padding::same && (sample[1] % 2 || sample[2] % 2);
      REQUIRE(cpu::detail::is_plain_2x2_pool(g) == !odd_same);
      if (odd_same) continue;
      std::vector<T> plane(static_cast<std::size_t>(g.in_pixels()));
      for (T& v : plane) {
        const int l = level(random);
        v = l == 4 ? std::numeric_limits<T>::quiet_NaN() : static_cast<T>(l);
      }
      std::vector<T> expected(static_cast<std::size_t>(g.out_pixels())), got(expected.size());
      std::vector<std::int32_t> expected_at(expected.size()), got_at(expected.size());
      cpu::detail::max_pool_plane(plane.data(), g, expected.data(), expected_at.data());
      cpu::detail::max_pool_plane_2x2(plane.data(), g, got.data(), got_at.data());
      CHECK(std::memcmp(got.data(), expected.data(), got.size() * sizeof(T)) == 0);
      CHECK(got_at == expected_at);
    }
  }
}

TEST_CASE("The 2x2 stride-2 max pool's own loop equals the general window loop, ties and NaNs included",
          "[pooling]") {
  check_plain_2x2_pool_loop<float>();
  check_plain_2x2_pool_loop<double>();
}

TEST_CASE("MaxPool2D rejects bad settings and shapes with clear messages", "[pooling]") {
  CHECK_THROWS_AS(MaxPool2D<float>(0), Error);
  CHECK_THROWS_WITH(MaxPool2D<float>(2, 2, Padding::explicit_amounts), Catch::Contains("ZeroPadding2D"));
  MaxPool2D<float> big(3);
  big.set_name("pool1");
  CHECK_THROWS_WITH(big.build_once(Shape{4, 2, 2}), Catch::Contains("pool1") && Catch::Contains("smaller"));
  MaxPool2D<float> flat;
  flat.set_name("pool2");
  CHECK_THROWS_WITH(flat.build_once(Shape{16}), Catch::Contains("pool2") && Catch::Contains("[16]"));
  MaxPool2D<float> pool;
  pool.set_name("pool3");
  pool.build_once(Shape{3, 8, 8});
  CHECK_THROWS_WITH(pool.forward(Tensor<float>(Shape{2, 3, 8, 9})),
                    Catch::Contains("pool3") && Catch::Contains("[2,3,8,9]"));
}

TEST_CASE("GlobalAveragePooling2D values and gradient", "[pooling]") {
  GlobalAveragePooling2D<double> gap;
  REQUIRE(gap.build_once(Shape{2, 2, 2}) == Shape{2});
  Tensor<double> x(Shape{1, 2, 2, 2}, {1, 2, 3, 4, -1, 0, 0, 5});
  const auto& y = gap.forward(x);
  REQUIRE(y.shape() == Shape{1, 2});
  CHECK(y[0] == 2.5);
  CHECK(y[1] == 1.0);
  const auto& dx = gap.backward(Tensor<double>(Shape{1, 2}, {4, -8}));
  REQUIRE(dx.shape() == x.shape());
  for (int i = 0; i < 4; ++i) CHECK(dx[i] == 1.0);
  for (int i = 4; i < 8; ++i) CHECK(dx[i] == -2.0);
  CHECK(gap.type() == "GlobalAveragePooling2D");
}

TEST_CASE("GlobalAveragePooling2D gradients at several shapes", "[pooling][gradcheck]") {
  const Shape shapes[] = {Shape{2, 3, 4, 5}, Shape{1, 9, 1, 1}, Shape{3, 5, 3, 2}, Shape{1, 1, 7, 7}};
  for (const Shape& s : shapes) {
    SECTION("input " + s.str()) {
      GlobalAveragePooling2D<double> gap;
      require_gradients_match(gap, random_tensor(s, 41));
    }
  }
}

TEST_CASE("GlobalAveragePooling2D rejects non-image input with a clear message", "[pooling]") {
  GlobalAveragePooling2D<float> gap;
  gap.set_name("gap");
  CHECK_THROWS_WITH(gap.build_once(Shape{10}), Catch::Contains("gap") && Catch::Contains("[10]"));
  GlobalAveragePooling2D<float> ok;
  ok.set_name("avg");
  ok.build_once(Shape{4, 3, 3});
  CHECK_THROWS_WITH(ok.forward(Tensor<float>(Shape{2, 4, 3})), Catch::Contains("avg") && Catch::Contains("[2,4,3]"));
}
