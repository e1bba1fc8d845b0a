#include <catch2/catch.hpp>

#include "layer_test_helpers.hpp"
#include "tinynet/layers/dense.hpp"

using namespace tinynet;
using tinynet_test::random_tensor;
using tinynet_test::require_gradients_match;

TEST_CASE("Dense forward matches a hand-computed case", "[dense]") {
  Dense<double> dense(2);
  dense.build_once(Shape{3});
  dense.kernel().copy_from(Tensor<double>(Shape{6}, {1, 2, 3, 4, 5, 6}));  // [3,2] Keras layout
  dense.parameters().value(1).copy_from(Tensor<double>(Shape{2}, {0.5, -1}));
  Tensor<double> x(Shape{1, 3}, {1, 1, 2});
  const auto& y = dense.forward(x);
  CHECK(y[0] == Approx(1 + 3 + 2 * 5 + 0.5));
  CHECK(y[1] == Approx(2 + 4 + 2 * 6 - 1));
}

TEST_CASE("Dense gradients", "[dense][gradcheck]") {
  SECTION("batch 1") {
    Dense<double> dense(5);
    require_gradients_match(dense, random_tensor(Shape{1, 7}, 3));
  }
  SECTION("batch 4, no bias") {
    Dense<double> dense(3, false);
    require_gradients_match(dense, random_tensor(Shape{4, 9}, 4));
  }
}

TEST_CASE("Dense glorot_uniform initialisation stays within the Keras limit", "[dense]") {
  Dense<float> dense(50);
  dense.build_once(Shape{30});
  Rng rng(5);
  dense.initialize(rng);
  const double limit = std::sqrt(6.0 / 80.0);
  float lo = 1, hi = -1;
  for (float v : dense.kernel()) lo = std::min(lo, v), hi = std::max(hi, v);
  CHECK(lo >= -limit);
  CHECK(hi <= limit);
  CHECK(hi - lo > 1.8 * limit);  // spread over the whole range
  for (float v : dense.parameters().value(1)) CHECK(v == 0.0f);
  CHECK_THROWS_WITH(dense.forward(Tensor<float>(Shape{2, 31})), Catch::Contains("[2,31]"));
}
