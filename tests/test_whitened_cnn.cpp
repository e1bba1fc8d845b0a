// The fast recipe's parts: patch whitening, identity-initialised convolutions, BatchNorm
// without a trainable scale, and the whitened CNN itself.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "layer_test_helpers.hpp"
#include "tinynet/data/patch_whitening.hpp"
#include "tinynet/layers/batch_norm.hpp"
#include "tinynet/layers/conv2d.hpp"
#include "tinynet/model/whitened_cnn.hpp"

using namespace tinynet;

namespace {

// ensures: [n, 3, h, w] images whose channels and neighbouring pixels are correlated (a
// smooth random field shared by the channels plus independent noise), so that the patch
// covariance is far from the identity.
Tensor<double> correlated_images(std::int64_t n, std::int64_t h, std::int64_t w, std::uint64_t seed) {
  Rng rng(seed);
  Tensor<double> images(Shape{n, 3, h, w});
  std::vector<double> field(static_cast<std::size_t>((h + 1) * (w + 1)));
  for (std::int64_t s = 0; s < n; ++s) {
    for (auto& v : field) v = rng.uniform(-1, 1);
    for (std::int64_t c = 0; c < 3; ++c)
      for (std::int64_t r = 0; r < h; ++r)
        for (std::int64_t q = 0; q < w; ++q) {
          const double smooth = field[r * (w + 1) + q] + field[(r + 1) * (w + 1) + q] + field[r * (w + 1) + q + 1];
          images[((s * 3 + c) * h + r) * w + q] = (c + 1) * smooth + 0.3 * rng.uniform(-1, 1);
        }
  }
  return images;
}

}  // namespace

TEST_CASE("patch_whitening_kernel: the filters decorrelate the patches to unit variance", "[whitening]") {
  const std::int64_t n = 6, h = 9, w = 8;
  const Tensor<double> images = correlated_images(n, h, w, 3);
  const int patch = 2;
  const Tensor<double> kernel = patch_whitening_kernel(images, patch, 1e-12);
  const std::int64_t dim = 3 * patch * patch;
  REQUIRE(kernel.shape() == Shape{2 * dim, 3, patch, patch});

  // Responses of the first dim filters to every window; their second moments must be I.
  std::vector<double> moment(static_cast<std::size_t>(dim * dim), 0.0);
  std::int64_t windows = 0;
  std::vector<double> z(static_cast<std::size_t>(dim));
  for (std::int64_t s = 0; s < n; ++s)
    for (std::int64_t r = 0; r + patch <= h; ++r)
      for (std::int64_t q = 0; q + patch <= w; ++q, ++windows) {
        for (std::int64_t k = 0; k < dim; ++k) {
          double sum = 0;
          for (std::int64_t c = 0; c < 3; ++c)
            for (int dr = 0; dr < patch; ++dr)
              for (int dc = 0; dc < patch; ++dc)
                sum += kernel[k * dim + (c * patch + dr) * patch + dc] *
                       images[((s * 3 + c) * h + r + dr) * w + q + dc];
          z[k] = sum;
        }
        for (std::int64_t a = 0; a < dim; ++a)
          for (std::int64_t b = 0; b < dim; ++b) moment[a * dim + b] += z[a] * z[b];
      }
  for (std::int64_t a = 0; a < dim; ++a)
    for (std::int64_t b = 0; b < dim; ++b)
      CHECK(moment[a * dim + b] / windows == Approx(a == b ? 1.0 : 0.0).margin(1e-6));
  // The second half negates the first; the largest eigenvalue (smallest filter) comes first.
  for (std::int64_t i = 0; i < dim * dim; ++i) CHECK(kernel[dim * dim + i] == -kernel[i]);
  auto norm = [&](std::int64_t k) {
    double sum = 0;
    for (std::int64_t i = 0; i < dim; ++i) sum += kernel[k * dim + i] * kernel[k * dim + i];
    return sum;
  };
  for (std::int64_t k = 1; k < dim; ++k) CHECK(norm(k - 1) <= norm(k));
}

TEST_CASE("patch_whitening_kernel rejects what it cannot whiten", "[whitening]") {
  CHECK_THROWS_WITH(patch_whitening_kernel(Tensor<float>(Shape{3, 8, 8}), 2, 1e-3), Catch::Contains("[N,C,H,W]"));
  CHECK_THROWS_WITH(patch_whitening_kernel(Tensor<float>(Shape{1, 3, 2, 2}), 3, 1e-3),
                    Catch::Contains("patch 3 does not fit"));
  CHECK_THROWS_WITH(patch_whitening_kernel(Tensor<float>(Shape{1, 3, 4, 4}), 2, 0.0), Catch::Contains("epsilon"));
}

TEST_CASE("Conv2D identity_init: the first filters pass their channels through", "[conv2d][initializers]") {
  Conv2DOptions options;
  options.identity_init = true;
  Conv2D<double> conv(5, 3, 3, options);
  conv.build_once(Shape{3, 6, 7});
  Rng rng(4);
  conv.initialize(rng);
  const Tensor<double> x = tinynet_test::random_tensor(Shape{2, 3, 6, 7}, 5);
  const Tensor<double>& y = conv.forward(x);
  const std::int64_t plane = 6 * 7;
  for (std::int64_t s = 0; s < 2; ++s)
    for (std::int64_t c = 0; c < 3; ++c)
      for (std::int64_t i = 0; i < plane; ++i)  // exact by im2col, within rounding by Winograd (timing picks)
        CHECK(std::abs(y[(s * 5 + c) * plane + i] - x[(s * 3 + c) * plane + i]) < 1e-12);
  // Filters 3 and 4 keep their random (Glorot) values.
  double rest = 0;
  for (std::int64_t i = 3 * 27; i < 5 * 27; ++i) rest += std::abs(conv.kernel()[i]);
  CHECK(rest > 0);
  CHECK_THROWS_WITH(dirac_identity(Tensor<float>(Shape{2, 2, 2, 2})), Catch::Contains("odd"));
}

TEST_CASE("BatchNorm without scale: gamma stays 1, beta trains, gradients still match", "[batch_norm]") {
  BatchNormOptions options;
  options.scale = false;
  BatchNorm<double> bn(options);
  bn.build_once(Shape{3, 2, 2});
  Rng rng(1);
  bn.initialize(rng);
  std::vector<std::pair<std::int64_t, std::int64_t>> ranges;
  bn.collect_trainable_ranges(100, ranges);
  REQUIRE(ranges.size() == 1);
  CHECK(ranges[0] == std::make_pair(std::int64_t(103), std::int64_t(3)));  // beta, after gamma's 3 values
  CHECK_THAT(bn.config(), Catch::Contains("no scale"));
  tinynet_test::require_gradients_match(bn, tinynet_test::random_tensor(Shape{4, 3, 2, 2}, 6));
}

TEST_CASE("The whitened CNN: shapes, size, a frozen stem, and gradients", "[sequential][whitened_cnn][gradcheck]") {
  auto net = make_whitened_cnn<float>();
  net->setup(Shape{3, 32, 32}, 1);
  CHECK(net->output_shape() == Shape{10});
  // stem 24*3*2*2 + 24; groups: 3x3 kernels and four BN vectors per BatchNorm; Dense 256*10
  const std::int64_t expected = (24 * 12 + 24) + (64 * 24 * 9 + 64 * 64 * 9 + 2 * 4 * 64) +
                                (256 * 64 * 9 + 256 * 256 * 9 + 2 * 4 * 256) + (2 * 256 * 256 * 9 + 2 * 4 * 256) +
                                256 * 10;
  CHECK(net->parameters().size() == expected);
  CHECK(net->layer(0).name() == "whitening");
  CHECK_FALSE(net->layer(0).trainable());
  CHECK(net->layer(net->size() - 1).type() == "Rescaling");
  std::vector<std::pair<std::int64_t, std::int64_t>> ranges;
  net->collect_trainable_ranges(0, ranges);
  CHECK(ranges.front().first == 24 * 12 + 24);  // nothing of the stem is updated
  std::vector<UpdateMultiplier> multipliers;  // the six BatchNorm biases learn 64x faster, decay 64x less
  net->collect_update_multipliers(0, multipliers);
  REQUIRE(multipliers.size() == 6);
  const std::vector<std::int64_t> widths{64, 64, 256, 256, 256, 256};
  for (std::size_t i = 0; i < multipliers.size(); ++i) {
    CHECK(multipliers[i].count == widths[i]);
    CHECK(multipliers[i].lr_mult == 64);
    CHECK(multipliers[i].decay_mult == 1.0 / 64);
  }

  for (Activation activation : {Activation::gelu, Activation::relu}) {
    INFO("activation " << (activation == Activation::gelu ? "GELU" : "ReLU"));
    WhitenedCnnOptions small;
    small.widths = {2, 3, 2};
    small.classes = 3;
    small.activation = activation;
    auto tiny = make_whitened_cnn<double>(small);
    tiny->setup(Shape{3, 32, 32}, 1);
    // Identity filters pass the ReLUs' exact zeros on to the max pools, whose ties are kinks
    // for central differences: jitter every kernel a little before checking.
    Rng rng(8);
    for (const auto& e : tiny->parameters().entries())
      if (e.name.find("kernel") != std::string::npos)
        for (std::int64_t i = 0; i < e.shape.numel(); ++i)
          tiny->parameters().values()[e.offset + i] += rng.uniform(-0.1, 0.1);
    tiny->set_training(true);
    tinynet_test::require_gradients_match(*tiny, tinynet_test::random_tensor(Shape{2, 3, 32, 32}, 7), 1e-5);
  }
  CHECK_THROWS_WITH(make_whitened_cnn<float>(WhitenedCnnOptions{{64, 0, 256}}), Catch::Contains("widths"));
  WhitenedCnnOptions no_bias_rate;
  no_bias_rate.bn_bias_lr_mult = 0;
  CHECK_THROWS_WITH(make_whitened_cnn<float>(no_bias_rate), Catch::Contains("bn_bias_lr_mult"));
}
