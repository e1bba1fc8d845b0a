#include <catch2/catch.hpp>

#include <cmath>
#include <string>

#include "layer_test_helpers.hpp"
#include "tinynet/backend/cpu/batch_norm.hpp"
#include "tinynet/layers/batch_norm.hpp"

using namespace tinynet;
using tinynet_test::random_tensor;
using tinynet_test::require_gradients_match;

namespace {

// ensures: bn built for `x_shape`, initialised, with non-trivial gamma, beta and moving statistics.
void prepare(BatchNorm<double>& bn, const Shape& x_shape, std::uint64_t seed) {
  bn.build_once(x_shape.drop_front());
  Rng rng(1);
  bn.initialize(rng);
  const Shape channels{x_shape[1]};
  bn.gamma().copy_from(random_tensor(channels, seed, 0.5, 1.5));
  bn.beta().copy_from(random_tensor(channels, seed + 1, -0.5, 0.5));
  bn.moving_mean().copy_from(random_tensor(channels, seed + 2, -0.3, 0.3));
  bn.moving_variance().copy_from(random_tensor(channels, seed + 3, 0.5, 2.0));
}

std::string shape_name(const Shape& s) { return "input " + s.str(); }

}  // namespace

TEST_CASE("BatchNorm declares Keras' four parameters with Keras' initial values", "[batch_norm]") {
  BatchNorm<float> bn;
  bn.build_once(Shape{3, 4, 4});
  Rng rng(0);
  bn.initialize(rng);
  const auto& entries = bn.parameters().entries();
  REQUIRE(entries.size() == 4);
  CHECK(entries[0].name == "gamma");
  CHECK(entries[1].name == "beta");
  CHECK(entries[2].name == "moving_mean");
  CHECK(entries[3].name == "moving_variance");
  CHECK(entries[0].kind == ParameterKind::weight);
  CHECK(entries[1].kind == ParameterKind::weight);
  CHECK(entries[2].kind == ParameterKind::statistic);
  CHECK(entries[3].kind == ParameterKind::statistic);
  for (int c = 0; c < 3; ++c) {
    CHECK(bn.gamma()[c] == 1.0f);
    CHECK(bn.beta()[c] == 0.0f);
    CHECK(bn.moving_mean()[c] == 0.0f);
    CHECK(bn.moving_variance()[c] == 1.0f);
  }
  CHECK(bn.momentum() == 0.99);
  CHECK(bn.epsilon() == 1e-3);
  CHECK(bn.type() == "BatchNormalization");
}

TEST_CASE("BatchNorm training forward and moving-average update, by hand", "[batch_norm]") {
  // [N=2, C=2, H=1, W=2]. Channel 0 holds {1,2 | 3,6}: mean 3, biased variance 3.5,
  // unbiased 14/3. Channel 1 holds {0,0 | 4,4}: mean 2, biased variance 4, unbiased 16/3.
  BatchNorm<double> bn(BatchNormOptions{0.9, 1e-3});
  bn.build_once(Shape{2, 1, 2});
  Rng rng(0);
  bn.initialize(rng);
  bn.gamma().copy_from(Tensor<double>(Shape{2}, {2.0, 1.0}));
  bn.beta().copy_from(Tensor<double>(Shape{2}, {0.5, -1.0}));
  Tensor<double> x(Shape{2, 2, 1, 2}, {1, 2, 0, 0, 3, 6, 4, 4});
  const auto& y = bn.forward(x);
  const double s0 = 2.0 / std::sqrt(3.5 + 1e-3), s1 = 1.0 / std::sqrt(4.0 + 1e-3);
  const double expected[] = {(1 - 3) * s0 + 0.5, (2 - 3) * s0 + 0.5, (0 - 2) * s1 - 1, (0 - 2) * s1 - 1,
                             (3 - 3) * s0 + 0.5, (6 - 3) * s0 + 0.5, (4 - 2) * s1 - 1, (4 - 2) * s1 - 1};
  for (int i = 0; i < 8; ++i) CHECK(y[i] == Approx(expected[i]).epsilon(1e-12));

  CHECK(bn.moving_mean()[0] == Approx(0.9 * 0 + 0.1 * 3).epsilon(1e-12));
  CHECK(bn.moving_mean()[1] == Approx(0.9 * 0 + 0.1 * 2).epsilon(1e-12));
  CHECK(bn.moving_variance()[0] == Approx(0.9 * 1 + 0.1 * 14.0 / 3.0).epsilon(1e-12));
  CHECK(bn.moving_variance()[1] == Approx(0.9 * 1 + 0.1 * 16.0 / 3.0).epsilon(1e-12));

  // A second step compounds the average.
  bn.forward(x);
  CHECK(bn.moving_mean()[0] == Approx(0.9 * 0.3 + 0.1 * 3).epsilon(1e-12));
  CHECK(bn.moving_variance()[1] == Approx(0.9 * (0.9 + 0.1 * 16.0 / 3.0) + 0.1 * 16.0 / 3.0).epsilon(1e-12));
}

TEST_CASE("BatchNorm on [N,F] features normalises per feature", "[batch_norm]") {
  BatchNorm<double> bn(BatchNormOptions{0.5, 1e-3});
  bn.build_once(Shape{2});
  Rng rng(0);
  bn.initialize(rng);
  // Feature 0 = {1, 3}: mean 2, variance 1 (unbiased 2). Feature 1 = {10, 10}: variance 0.
  Tensor<double> x(Shape{2, 2}, {1, 10, 3, 10});
  const auto& y = bn.forward(x);
  CHECK(y[0] == Approx(-1 / std::sqrt(1 + 1e-3)));
  CHECK(y[2] == Approx(1 / std::sqrt(1 + 1e-3)));
  CHECK(y[1] == Approx(0.0).margin(1e-12));
  CHECK(y[3] == Approx(0.0).margin(1e-12));
  CHECK(bn.moving_mean()[0] == Approx(1.0));
  CHECK(bn.moving_mean()[1] == Approx(5.0));
  CHECK(bn.moving_variance()[0] == Approx(0.5 * 1 + 0.5 * 2));
  CHECK(bn.moving_variance()[1] == Approx(0.5));
}

TEST_CASE("BatchNorm inference and frozen layers use the moving statistics and update nothing", "[batch_norm]") {
  const Tensor<double> x = random_tensor(Shape{3, 2, 2, 3}, 5, -2, 2);
  auto expect_moving_statistics = [&](BatchNorm<double>& bn) {
    const Tensor<double> mean_before = bn.moving_mean().clone(), var_before = bn.moving_variance().clone();
    const auto& y = bn.forward(x);
    for (std::int64_t n = 0; n < 3; ++n)
      for (std::int64_t c = 0; c < 2; ++c)
        for (std::int64_t i = 0; i < 6; ++i) {
          const std::int64_t k = (n * 2 + c) * 6 + i;
          const double want =
              bn.gamma()[c] * (x[k] - mean_before[c]) / std::sqrt(var_before[c] + bn.epsilon()) + bn.beta()[c];
          CHECK(y[k] == Approx(want).epsilon(1e-12));
        }
    for (int c = 0; c < 2; ++c) {
      CHECK(bn.moving_mean()[c] == mean_before[c]);
      CHECK(bn.moving_variance()[c] == var_before[c]);
    }
  };
  SECTION("inference mode") {
    BatchNorm<double> bn;
    prepare(bn, x.shape(), 20);
    bn.set_training(false);
    expect_moving_statistics(bn);
  }
  SECTION("frozen layer in training mode (Keras 2 in TF2)") {
    BatchNorm<double> bn;
    prepare(bn, x.shape(), 30);
    bn.set_trainable(false);
    REQUIRE(bn.training());
    expect_moving_statistics(bn);
    // Backward is the affine one and leaves the parameter gradients alone.
    const Tensor<double> dy = random_tensor(x.shape(), 6);
    const auto& dx = bn.backward(dy);
    for (std::int64_t k = 0; k < x.numel(); ++k) {
      const std::int64_t c = k / 6 % 2;
      CHECK(dx[k] == Approx(dy[k] * bn.gamma()[c] / std::sqrt(bn.moving_variance()[c] + bn.epsilon())));
    }
    for (double g : bn.parameters().grads()) CHECK(g == 0.0);
  }
  SECTION("set_epsilon changes the normaliser (tf.keras ResNet50 uses 1.001e-5)") {
    BatchNorm<double> bn;
    prepare(bn, x.shape(), 40);
    bn.set_epsilon(1.001e-5);
    bn.set_training(false);
    expect_moving_statistics(bn);
  }
}

TEST_CASE("BatchNorm<float> accumulates in double: large means keep their precision", "[batch_norm]") {
  BatchNorm<float> bn;
  bn.build_once(Shape{1, 4, 4});
  Rng rng(0);
  bn.initialize(rng);
  Tensor<float> x(Shape{4, 1, 4, 4});
  for (std::int64_t i = 0; i < x.numel(); ++i) x[i] = 10000.0f + static_cast<float>(i % 4);  // mean +1.5, var 1.25
  const auto& y = bn.forward(x);
  const double s = 1 / std::sqrt(1.25 + 1e-3);
  for (std::int64_t i = 0; i < x.numel(); ++i) CHECK(y[i] == Approx((i % 4 - 1.5) * s).margin(1e-4));
  CHECK(bn.moving_mean()[0] == Approx(0.01 * 10001.5).epsilon(1e-6));
}

TEST_CASE("BatchNorm kernels match a channel-by-channel computation at every blocking", "[batch_norm]") {
  // The kernels cut the channels into blocks of about 384 KiB of the tensors a pass reads
  // (at least one channel, at least one block per thread): [4,6,200,200] gives one channel
  // per block, [3,37,5,7] a short last block, [64,512,2,2] ResNet50's last stage, [5,13] features. Each with and
  // without the fused ReLU (y = max(y, 0); the backward masks dy where y is 0).
  const Shape shapes[] = {Shape{4, 6, 200, 200}, Shape{3, 37, 5, 7}, Shape{64, 512, 2, 2}, Shape{5, 13}};
  std::uint64_t seed = 300;
  for (const Shape& s : shapes)
    for (const bool relu : {false, true}) {
      SECTION(shape_name(s) + (relu ? " with relu" : "")) {
        const std::int64_t n_count = s[0], c_count = s[1], spatial = s.rank() == 4 ? s[2] * s[3] : 1;
        const double count = static_cast<double>(n_count * spatial), momentum = 0.9, eps = 1e-3;
        const auto x = random_tensor(s, seed, -2, 3);
        const auto dy = random_tensor(s, seed + 1, -1, 1);
        const auto gamma = random_tensor(Shape{c_count}, seed + 2, 0.5, 1.5);
        const auto beta = random_tensor(Shape{c_count}, seed + 3, -0.5, 0.5);
        Tensor<double> moving_mean(Shape{c_count}), moving_variance(Shape{c_count}), y(s), mean(Shape{c_count}),
            inv_std(Shape{c_count}), dx(s), dgamma(Shape{c_count}), dbeta(Shape{c_count});
        moving_mean.zero();
        moving_variance.fill(1.0);
        cpu::batch_norm_forward_training(x, gamma, beta, momentum, eps, moving_mean, moving_variance, y, mean, inv_std,
                                         relu);
        cpu::batch_norm_backward_training(x, dy, relu ? &y : nullptr, gamma, mean, inv_std, &dx, &dgamma, &dbeta);
        for (std::int64_t c = 0; c < c_count; ++c) {
          auto at = [&](std::int64_t n, std::int64_t p) { return (n * c_count + c) * spatial + p; };
          double m = 0, v = 0, sum_dy = 0, sum_dy_xhat = 0;
          for (std::int64_t n = 0; n < n_count; ++n)
            for (std::int64_t p = 0; p < spatial; ++p) m += x[at(n, p)];
          m /= count;
          for (std::int64_t n = 0; n < n_count; ++n)
            for (std::int64_t p = 0; p < spatial; ++p) v += (x[at(n, p)] - m) * (x[at(n, p)] - m);
          v /= count;
          const double is = 1 / std::sqrt(v + eps);
          auto y_at = [&](std::int64_t i) { return gamma[c] * (x[i] - m) * is + beta[c]; };  // before the ReLU
          auto dy_at = [&](std::int64_t i) { return relu && y_at(i) <= 0 ? 0.0 : dy[i]; };
          CHECK(mean[c] == Approx(m).epsilon(1e-12));
          CHECK(inv_std[c] == Approx(is).epsilon(1e-12));
          CHECK(moving_mean[c] == Approx((1 - momentum) * m).epsilon(1e-12));
          CHECK(moving_variance[c] == Approx(momentum + (1 - momentum) * v * count / (count - 1)).epsilon(1e-12));
          for (std::int64_t n = 0; n < n_count; ++n)
            for (std::int64_t p = 0; p < spatial; ++p) {
              sum_dy += dy_at(at(n, p));
              sum_dy_xhat += dy_at(at(n, p)) * (x[at(n, p)] - m) * is;
            }
          CHECK(dbeta[c] == Approx(sum_dy).epsilon(1e-10).margin(1e-10));
          CHECK(dgamma[c] == Approx(sum_dy_xhat).epsilon(1e-10).margin(1e-10));
          int wrong = 0;  // one CHECK per channel, not per value
          for (std::int64_t n = 0; n < n_count; ++n)
            for (std::int64_t p = 0; p < spatial; ++p) {
              const std::int64_t i = at(n, p);
              const double xhat = (x[i] - m) * is;
              const double want_y = relu ? std::max(y_at(i), 0.0) : y_at(i);
              const double want_dx = gamma[c] * is / count * (count * dy_at(i) - sum_dy - xhat * sum_dy_xhat);
              if (std::abs(y[i] - want_y) > 1e-10 || std::abs(dx[i] - want_dx) > 1e-10) ++wrong;
            }
          CHECK(wrong == 0);
        }
      }
      seed += 10;
    }
}

TEST_CASE("BatchNorm gradients in training mode", "[batch_norm][gradcheck]") {
  const Shape shapes[] = {Shape{2, 3, 4, 5}, Shape{1, 5, 3, 3}, Shape{3, 7, 1, 1}, Shape{4, 2, 3, 2},
                          Shape{6, 5},       Shape{3, 9},       Shape{2, 1}};
  std::uint64_t seed = 100;
  for (const Shape& s : shapes) {
    SECTION(shape_name(s)) {
      BatchNorm<double> bn;
      prepare(bn, s, seed);
      require_gradients_match(bn, random_tensor(s, seed + 50, -2, 3));
    }
    seed += 10;
  }
}

TEST_CASE("BatchNorm gradients in inference mode and when frozen", "[batch_norm][gradcheck]") {
  const Shape shapes[] = {Shape{2, 3, 4, 5}, Shape{1, 5, 3, 3}, Shape{5, 6}, Shape{1, 3}};
  std::uint64_t seed = 200;
  for (const Shape& s : shapes) {
    SECTION("inference " + shape_name(s)) {
      BatchNorm<double> bn;
      prepare(bn, s, seed);
      bn.set_training(false);
      require_gradients_match(bn, random_tensor(s, seed + 50, -2, 3));
    }
    SECTION("frozen " + shape_name(s)) {
      BatchNorm<double> bn;
      prepare(bn, s, seed);
      bn.set_trainable(false);
      require_gradients_match(bn, random_tensor(s, seed + 50, -2, 3));
    }
    seed += 10;
  }
}

TEST_CASE("BatchNorm with a fused ReLU: gradients in every mode, and equal to BatchNorm -> ReLU",
          "[batch_norm][gradcheck]") {
  const Shape shapes[] = {Shape{2, 3, 4, 5}, Shape{3, 4, 2, 2}, Shape{6, 5}};
  std::uint64_t seed = 400;
  for (const Shape& s : shapes) {
    const Tensor<double> x = random_tensor(s, seed + 50, -2, 3);
    for (const char* mode : {"training", "inference", "frozen"}) {
      SECTION(std::string(mode) + " " + shape_name(s)) {
        BatchNorm<double> fused(BatchNormOptions{0.9, 1e-3, true}), plain(BatchNormOptions{0.9, 1e-3, false});
        prepare(fused, s, seed);
        prepare(plain, s, seed);
        for (BatchNorm<double>* bn : {&fused, &plain}) {
          bn->set_training(std::string(mode) != "inference");
          bn->set_trainable(std::string(mode) != "frozen");
        }
        CHECK(fused.config().find("relu") != std::string::npos);
        require_gradients_match(fused, x);

        const Tensor<double> dy = random_tensor(s, seed + 60, -1, 1);
        const Tensor<double> y = fused.forward(x).clone();
        const Tensor<double> dx = fused.backward(dy).clone();
        const Tensor<double>& y_plain = plain.forward(x);
        Tensor<double> dy_masked(s);
        int wrong = 0, zeros = 0;
        for (std::int64_t i = 0; i < y.numel(); ++i) {
          if (y[i] != std::max(y_plain[i], 0.0)) ++wrong;
          dy_masked[i] = y_plain[i] > 0 ? dy[i] : 0.0;
          zeros += y[i] == 0;
        }
        CHECK(wrong == 0);
        CHECK(zeros > 0);  // the ReLU cut something
        const Tensor<double>& dx_plain = plain.backward(dy_masked);
        for (std::int64_t i = 0; i < dx.numel(); ++i) REQUIRE(dx[i] == Approx(dx_plain[i]).margin(1e-12));
      }
    }
    seed += 10;
  }
}

TEST_CASE("BatchNorm rejects bad shapes and settings with clear messages", "[batch_norm]") {
  BatchNorm<float> bn;
  bn.set_name("bn1");
  CHECK_THROWS_WITH(bn.build_once(Shape{3, 4}), Catch::Contains("bn1") && Catch::Contains("[3,4]"));
  BatchNorm<float> ok;
  ok.set_name("bn2");
  ok.build_once(Shape{3, 4, 4});
  Tensor<float> wrong(Shape{2, 5, 4, 4});
  CHECK_THROWS_WITH(ok.forward(wrong), Catch::Contains("bn2") && Catch::Contains("[2,5,4,4]"));
  ok.forward(Tensor<float>(Shape{2, 3, 4, 4}));
  CHECK_THROWS_WITH(ok.backward(Tensor<float>(Shape{2, 3, 4, 5})),
                    Catch::Contains("bn2") && Catch::Contains("[2,3,4,5]"));
  CHECK_THROWS_AS(BatchNorm<float>(BatchNormOptions{1.5, 1e-3}), Error);
  CHECK_THROWS_WITH(ok.set_epsilon(0), Catch::Contains("bn2") && Catch::Contains("epsilon"));
}
