#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "layer_test_helpers.hpp"
#include "tinynet/losses/softmax_cross_entropy.hpp"

using namespace tinynet;
using tinynet_test::random_tensor;

namespace {

// ensures: [N,K] rows one-hot at `labels`.
Tensor<double> one_hot(const std::vector<int>& labels, std::int64_t classes) {
  Tensor<double> t(Shape{static_cast<std::int64_t>(labels.size()), classes});
  for (std::size_t n = 0; n < labels.size(); ++n) t[static_cast<std::int64_t>(n) * classes + labels[n]] = 1;
  return t;
}

// ensures: REQUIREs that backward() matches central differences of forward() for `logits`.
template <class Target>
void require_loss_gradient(SoftmaxCrossEntropy<double>& loss, Tensor<double> logits, const Target& target) {
  auto f = [&] { return loss.forward(logits, target); };
  f();
  const Tensor<double> analytic = loss.backward().clone();
  testing::GradientCheckResult result;
  testing::check_gradient(f, logits, analytic, "logits", {}, result);
  INFO("worst " << result.worst << " (relative error " << result.max_relative_error << ")");
  REQUIRE(result.passed(1e-6));
}

}  // namespace

TEST_CASE("SoftmaxCrossEntropy value, probabilities and gradient by hand", "[loss]") {
  // Row 0: logits [0, ln2, ln3] -> softmax [1/6, 2/6, 3/6]; label 2 -> loss ln 2.
  // Row 1: logits [ln3, 0, ln2] -> softmax [3/6, 1/6, 2/6]; label 1 -> loss ln 6.
  const double l2 = std::log(2.0), l3 = std::log(3.0);
  Tensor<double> logits(Shape{2, 3}, {0, l2, l3, l3, 0, l2});
  const std::vector<int> labels{2, 1};
  const double p[] = {1.0 / 6, 2.0 / 6, 3.0 / 6, 3.0 / 6, 1.0 / 6, 2.0 / 6};
  const double t[] = {0, 0, 1, 0, 1, 0};
  const double want = (std::log(2.0) + std::log(6.0)) / 2;

  SoftmaxCrossEntropy<double> loss;
  auto check_all = [&](double value) {
    CHECK(value == Approx(want).epsilon(1e-14));
    const auto& probs = loss.probabilities();
    const auto& grad = loss.backward();
    REQUIRE(grad.shape() == logits.shape());
    for (int i = 0; i < 6; ++i) {
      CHECK(probs[i] == Approx(p[i]).epsilon(1e-14));
      CHECK(grad[i] == Approx((p[i] - t[i]) / 2).epsilon(1e-14));
    }
  };
  SECTION("integer labels") { check_all(loss.forward(logits, labels)); }
  SECTION("one-hot targets") { check_all(loss.forward(logits, one_hot(labels, 3))); }
}

TEST_CASE("SoftmaxCrossEntropy is stable for huge logits", "[loss]") {
  SoftmaxCrossEntropy<float> loss;
  Tensor<float> logits(Shape{2, 3}, {1000, 1000, 0, -1000, 0, 1000});
  const float value = loss.forward(logits, std::vector<int>{0, 2});
  // Row 0: two equal maxima -> ln 2. Row 1: label on the maximum, others negligible -> ~0.
  CHECK(std::isfinite(value));
  CHECK(value == Approx(std::log(2.0) / 2).epsilon(1e-6));
  const auto& probs = loss.probabilities();
  CHECK(probs[0] == Approx(0.5f));
  CHECK(probs[2] == 0.0f);
  CHECK(probs[5] == 1.0f);
  for (float g : loss.backward()) CHECK(std::isfinite(g));
  // A confident wrong answer is a large but finite loss: -log softmax = 2000 for row 1.
  CHECK(loss.forward(logits, std::vector<int>{0, 0}) == Approx((std::log(2.0) + 2000) / 2).epsilon(1e-6));
}

TEST_CASE("SoftmaxCrossEntropy with Keras label smoothing", "[loss]") {
  // ls = 0.3, K = 3: target for label 2 is [0.1, 0.1, 0.8].
  const double l2 = std::log(2.0), l3 = std::log(3.0);
  Tensor<double> logits(Shape{1, 3}, {0, l2, l3});
  SoftmaxCrossEntropy<double> loss(0.3);
  const double want = -(0.1 * std::log(1.0 / 6) + 0.1 * std::log(2.0 / 6) + 0.8 * std::log(3.0 / 6));
  CHECK(loss.forward(logits, std::vector<int>{2}) == Approx(want).epsilon(1e-14));
  const auto& grad = loss.backward();
  CHECK(grad[0] == Approx(1.0 / 6 - 0.1).epsilon(1e-14));
  CHECK(grad[1] == Approx(2.0 / 6 - 0.1).epsilon(1e-14));
  CHECK(grad[2] == Approx(3.0 / 6 - 0.8).epsilon(1e-14));
  CHECK(loss.forward(logits, one_hot({2}, 3)) == Approx(want).epsilon(1e-14));
}

TEST_CASE("SoftmaxCrossEntropy gradient matches central differences", "[loss][gradcheck]") {
  const std::vector<int> labels{3, 0, 6, 2, 6};
  const Tensor<double> logits = random_tensor(Shape{5, 7}, 91, -3, 3);
  SECTION("integer labels") {
    SoftmaxCrossEntropy<double> loss;
    require_loss_gradient(loss, logits, labels);
  }
  SECTION("one-hot targets") {
    SoftmaxCrossEntropy<double> loss;
    require_loss_gradient(loss, logits, one_hot(labels, 7));
  }
  SECTION("label smoothing 0.2, integer labels and one-hot") {
    SoftmaxCrossEntropy<double> loss(0.2);
    require_loss_gradient(loss, logits, labels);
    require_loss_gradient(loss, logits, one_hot(labels, 7));
  }
  SECTION("batch of one, two classes") {
    SoftmaxCrossEntropy<double> loss(0.1);
    require_loss_gradient(loss, random_tensor(Shape{1, 2}, 92, -3, 3), std::vector<int>{1});
  }
}

TEST_CASE("SoftmaxCrossEntropy rejects bad labels and shapes with clear messages", "[loss]") {
  SoftmaxCrossEntropy<float> loss;
  Tensor<float> logits(Shape{3, 5});
  CHECK_THROWS_WITH(loss.forward(logits, std::vector<int>{0, 7, 1}),
                    Catch::Contains("SoftmaxCrossEntropy") && Catch::Contains("label 7") &&
                        Catch::Contains("sample 1") && Catch::Contains("[3,5]"));
  CHECK_THROWS_WITH(loss.forward(logits, std::vector<int>{0, 1, -1}),
                    Catch::Contains("label -1") && Catch::Contains("sample 2"));
  CHECK_THROWS_WITH(loss.forward(logits, std::vector<int>{0, 1}),
                    Catch::Contains("2 labels") && Catch::Contains("[3,5]"));
  CHECK_THROWS_WITH(loss.forward(logits, Tensor<float>(Shape{3, 4})),
                    Catch::Contains("[3,4]") && Catch::Contains("[3,5]"));
  CHECK_THROWS_WITH(loss.forward(Tensor<float>(Shape{2, 3, 4, 4}), std::vector<int>{0, 1}),
                    Catch::Contains("[2,3,4,4]"));
  CHECK_THROWS_WITH(SoftmaxCrossEntropy<float>().backward(), Catch::Contains("before forward"));
  CHECK_THROWS_AS(SoftmaxCrossEntropy<float>(1.5), Error);
}
