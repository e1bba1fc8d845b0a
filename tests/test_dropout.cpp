#include <catch2/catch.hpp>

#include "layer_test_helpers.hpp"
#include "tinynet/layers/dropout.hpp"

using namespace tinynet;
using tinynet_test::random_tensor;
using tinynet_test::require_gradients_match;

TEST_CASE("Dropout zeroes about `rate` of the elements and scales the rest by exactly 1/(1-rate)", "[dropout]") {
  const double rate = 0.3;
  Dropout<float> drop(rate, 42);
  drop.build_once(Shape{10, 100, 10});
  const Tensor<float> x = random_tensor<float>(Shape{10, 10, 100, 10}, 3, 0.5, 1.5);  // no zeros in x
  const auto& y = drop.forward(x);
  const float scale = static_cast<float>(1.0 / (1.0 - rate));
  std::int64_t zeros = 0;
  double sum_x = 0, sum_y = 0;
  bool kept_exact = true;
  for (std::int64_t i = 0; i < x.numel(); ++i) {
    if (y[i] == 0.0f)
      ++zeros;
    else
      kept_exact = kept_exact && y[i] == x[i] * scale;
    sum_x += x[i];
    sum_y += y[i];
  }
  CHECK(kept_exact);
  // 100k Bernoulli(0.3) draws: standard deviation of the fraction is 0.0014.
  CHECK(static_cast<double>(zeros) / static_cast<double>(x.numel()) == Approx(rate).margin(0.01));
  CHECK(sum_y == Approx(sum_x).epsilon(0.01));  // inverted dropout keeps the expectation

  // backward applies the same mask.
  const Tensor<float> dy = random_tensor<float>(x.shape(), 4);
  const auto& dx = drop.backward(dy);
  for (std::int64_t i = 0; i < x.numel(); i += 997) CHECK(dx[i] == (y[i] == 0.0f ? 0.0f : dy[i] * scale));
}

TEST_CASE("Dropout masks are reproducible from the seed and fresh on each forward", "[dropout]") {
  const Tensor<double> x = random_tensor(Shape{4, 50}, 5, 1, 2);
  Dropout<double> a(0.5, 7), b(0.5, 7), c(0.5, 8);
  for (auto* d : {&a, &b, &c}) d->build_once(Shape{50});
  const Tensor<double> ya = a.forward(x).clone();
  const Tensor<double> yb = b.forward(x).clone();
  const Tensor<double> yc = c.forward(x).clone();
  bool same_ab = true, same_ac = true;
  for (std::int64_t i = 0; i < x.numel(); ++i) {
    same_ab = same_ab && ya[i] == yb[i];
    same_ac = same_ac && ya[i] == yc[i];
  }
  CHECK(same_ab);
  CHECK_FALSE(same_ac);

  // The next forward draws a new mask; restoring the saved generator state replays it.
  const std::string state = a.rng().state();
  const Tensor<double> second = a.forward(x).clone();
  bool same_as_first = true;
  for (std::int64_t i = 0; i < x.numel(); ++i) same_as_first = same_as_first && second[i] == ya[i];
  CHECK_FALSE(same_as_first);
  a.rng().restore(state);
  const auto& replay = a.forward(x);
  for (std::int64_t i = 0; i < x.numel(); ++i) CHECK(replay[i] == second[i]);
}

TEST_CASE("Dropout is the identity in inference mode and with rate 0", "[dropout]") {
  const Tensor<double> x = random_tensor(Shape{3, 2, 4, 4}, 6);
  const Tensor<double> dy = random_tensor(Shape{3, 2, 4, 4}, 7);
  Dropout<double> eval(0.9, 1);
  eval.build_once(Shape{2, 4, 4});
  eval.set_training(false);
  Dropout<double> zero(0.0, 1);
  zero.build_once(Shape{2, 4, 4});
  for (auto* d : {&eval, &zero}) {
    const auto& y = d->forward(x);
    for (std::int64_t i = 0; i < x.numel(); ++i) CHECK(y[i] == x[i]);
    const auto& dx = d->backward(dy);
    for (std::int64_t i = 0; i < x.numel(); ++i) CHECK(dx[i] == dy[i]);
  }

  // Going back to training must not write into the tensor the identity pass returned.
  const Tensor<double> x_before = x.clone(), dy_before = dy.clone();
  eval.set_training(true);
  eval.forward(x);
  eval.backward(dy);
  for (std::int64_t i = 0; i < x.numel(); ++i) {
    CHECK(x[i] == x_before[i]);
    CHECK(dy[i] == dy_before[i]);
  }
}

TEST_CASE("Dropout gradients with a fixed mask", "[dropout][gradcheck]") {
  const Shape shapes[] = {Shape{2, 3, 4, 5}, Shape{7, 3}, Shape{1, 1, 3, 3}};
  for (const Shape& s : shapes) {
    SECTION("input " + s.str()) {
      Dropout<double> drop(0.4, 3);
      // Re-seeding before each forward keeps the mask fixed across the finite differences.
      require_gradients_match(drop, random_tensor(s, 51), 1e-6, [&] { drop.rng() = Rng(11); });
    }
  }
}

TEST_CASE("Dropout rejects bad rates and shapes with clear messages", "[dropout]") {
  CHECK_THROWS_WITH(Dropout<float>(1.0), Catch::Contains("Dropout") && Catch::Contains("rate"));
  CHECK_THROWS_AS(Dropout<float>(-0.1), Error);
  Dropout<float> drop(0.5);
  drop.set_name("drop1");
  drop.build_once(Shape{8});
  CHECK_THROWS_WITH(drop.forward(Tensor<float>(Shape{2, 9})), Catch::Contains("drop1") && Catch::Contains("[2,9]"));
  drop.forward(Tensor<float>(Shape{2, 8}));
  CHECK_THROWS_WITH(drop.backward(Tensor<float>(Shape{3, 8})),
                    Catch::Contains("drop1") && Catch::Contains("[3,8]"));
}
