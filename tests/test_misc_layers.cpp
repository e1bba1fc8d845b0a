#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <string>

#include "layer_test_helpers.hpp"
#include "tinynet/backend/elementwise.hpp"
#include "tinynet/layers/add.hpp"
#include "tinynet/layers/batch_norm.hpp"
#include "tinynet/layers/conv2d.hpp"
#include "tinynet/layers/dense.hpp"
#include "tinynet/layers/dropout.hpp"
#include "tinynet/layers/gelu.hpp"
#include "tinynet/layers/global_average_pooling2d.hpp"
#include "tinynet/layers/max_pool2d.hpp"
#include "tinynet/layers/relu.hpp"
#include "tinynet/layers/rescaling.hpp"
#include "tinynet/layers/sequential.hpp"
#include "tinynet/layers/zero_padding2d.hpp"

using namespace tinynet;
using tinynet_test::random_tensor;
using tinynet_test::require_gradients_match;

TEST_CASE("GELU: PyTorch's exact values, float close to double, gradients", "[gelu][gradcheck]") {
  GELU<double> exact;
  REQUIRE(exact.build_once(Shape{7}) == Shape{7});
  // torch.nn.GELU()(torch.tensor([-6., -3, -1, 0, 0.5, 1, 3], dtype=torch.float64))
  const Tensor<double> x(Shape{1, 7}, {-6, -3, -1, 0, 0.5, 1, 3});
  const double expected[] = {-5.919525869479969e-09, -0.00404969409489031, -0.15865525393145707, 0,
                             0.34573123063700656,    0.8413447460685429,   2.99595030590511};
  const auto& y = exact.forward(x);
  for (int i = 0; i < 7; ++i) CHECK(y[i] == Approx(expected[i]).epsilon(1e-12).margin(1e-18));

  // Float (Eigen's vectorised erf) against double (std::erf) over [-10, 10], values and gradients.
  const Shape s{4001};
  Tensor<double> xd(s), dy(s);
  Tensor<float> xf(s), dyf(s);
  dy.fill(1.0);
  dyf.fill(1.0f);
  for (std::int64_t i = 0; i < s[0]; ++i) xf[i] = static_cast<float>(xd[i] = -10 + 0.005 * static_cast<double>(i));
  GELU<double> d;
  GELU<float> f;
  d.build_once(Shape{s[0]});
  f.build_once(Shape{s[0]});
  const auto& yd = d.forward(xd.reshaped(Shape{1, s[0]}));
  const auto& yf = f.forward(xf.reshaped(Shape{1, s[0]}));
  const auto& gd = d.backward(dy.reshaped(Shape{1, s[0]}));
  const auto& gf = f.backward(dyf.reshaped(Shape{1, s[0]}));
  double value_error = 0, grad_error = 0;
  for (std::int64_t i = 0; i < s[0]; ++i) {
    value_error = std::max(value_error, std::abs(yf[i] - yd[i]) / std::max(1.0, std::abs(yd[i])));
    grad_error = std::max(grad_error, std::abs(gf[i] - gd[i]));
  }
  CHECK(value_error < 2e-6);
  CHECK(grad_error < 2e-6);

  GELU<double> checked;
  checked.build_once(Shape{3, 4, 5});
  require_gradients_match(checked, random_tensor(Shape{2, 3, 4, 5}, 17));
}

TEST_CASE("ZeroPadding2D surrounds each plane with zeros", "[zero_padding]") {
  ZeroPadding2D<double> pad(1, 0, 2, 1);  // top, bottom, left, right
  REQUIRE(pad.build_once(Shape{2, 2, 2}) == Shape{2, 3, 5});
  Tensor<double> x(Shape{1, 2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  const auto& y = pad.forward(x);
  REQUIRE(y.shape() == Shape{1, 2, 3, 5});
  const double expected[] = {0, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 3, 4, 0,   // channel 0
                             0, 0, 0, 0, 0, 0, 0, 5, 6, 0, 0, 0, 7, 8, 0};  // channel 1
  for (int i = 0; i < 30; ++i) CHECK(y[i] == expected[i]);

  Tensor<double> dy(y.shape());
  for (std::int64_t i = 0; i < dy.numel(); ++i) dy[i] = static_cast<double>(i);
  const auto& dx = pad.backward(dy);
  REQUIRE(dx.shape() == x.shape());
  const double cropped[] = {7, 8, 12, 13, 22, 23, 27, 28};
  for (int i = 0; i < 8; ++i) CHECK(dx[i] == cropped[i]);

  ZeroPadding2D<float> symmetric(3);  // the ResNet50 stem pads 3 on every side
  CHECK(symmetric.build_once(Shape{3, 224, 224}) == Shape{3, 230, 230});
  CHECK(symmetric.type() == "ZeroPadding2D");
}

TEST_CASE("ZeroPadding2D gradients at several shapes", "[zero_padding][gradcheck]") {
  SECTION("symmetric 1, odd sizes") {
    ZeroPadding2D<double> pad(1);
    require_gradients_match(pad, random_tensor(Shape{2, 3, 5, 7}, 61));
  }
  SECTION("asymmetric, batch 1, 9 channels") {
    ZeroPadding2D<double> pad(0, 2, 1, 0);
    require_gradients_match(pad, random_tensor(Shape{1, 9, 3, 4}, 62));
  }
  SECTION("no padding at all") {
    ZeroPadding2D<double> pad(0);
    require_gradients_match(pad, random_tensor(Shape{3, 2, 2, 2}, 63));
  }
}

TEST_CASE("ZeroPadding2D rejects bad amounts and shapes with clear messages", "[zero_padding]") {
  CHECK_THROWS_WITH(ZeroPadding2D<float>(1, -1, 0, 0), Catch::Contains("ZeroPadding2D") && Catch::Contains("-1"));
  ZeroPadding2D<float> pad(2);
  pad.set_name("pad1");
  CHECK_THROWS_WITH(pad.build_once(Shape{5, 5}), Catch::Contains("pad1") && Catch::Contains("[5,5]"));
  ZeroPadding2D<float> ok(2);
  ok.set_name("pad2");
  ok.build_once(Shape{3, 5, 5});
  CHECK_THROWS_WITH(ok.forward(Tensor<float>(Shape{1, 3, 5, 6})),
                    Catch::Contains("pad2") && Catch::Contains("[1,3,5,6]"));
}

TEST_CASE("Add sums two tensors and passes the gradient to both", "[add]") {
  Add<double> add;
  Tensor<double> a(Shape{1, 2, 1, 2}, {1, -2, 3, 0.5});
  Tensor<double> b(Shape{1, 2, 1, 2}, {4, 1, -5, 0.25});
  const auto& y = add.forward(a, b);
  REQUIRE(y.shape() == a.shape());
  CHECK(y[0] == 5);
  CHECK(y[1] == -1);
  CHECK(y[2] == -2);
  CHECK(y[3] == 0.75);
  Tensor<double> dy(Shape{1, 2, 1, 2}, {0.1, 0.2, 0.3, 0.4});
  const auto& d = add.backward(dy);
  for (int i = 0; i < 4; ++i) CHECK(d[i] == dy[i]);

  Tensor<double> fused(a.shape());
  add_relu_forward(a, b, fused);
  CHECK(fused[0] == 5);
  CHECK(fused[1] == 0);
  CHECK(fused[2] == 0);
  CHECK(fused[3] == 0.75);
}

TEST_CASE("Add gradient matches central differences for both inputs", "[add][gradcheck]") {
  Add<double> add;
  Tensor<double> a = random_tensor(Shape{2, 3, 3, 5}, 71), b = random_tensor(Shape{2, 3, 3, 5}, 72);
  const Tensor<double> r = random_tensor(a.shape(), 73);
  auto f = [&] {
    const auto& y = add.forward(a, b);
    double s = 0;
    for (std::int64_t i = 0; i < y.numel(); ++i) s += r[i] * y[i];
    return s;
  };
  f();
  const Tensor<double> grad = add.backward(r).clone();
  testing::GradientCheckResult result;
  testing::check_gradient(f, a, grad, "a", {}, result);
  testing::check_gradient(f, b, grad, "b", {}, result);
  INFO(result.worst);
  CHECK(result.passed(1e-8));
}

TEST_CASE("Add rejects mismatched shapes naming both", "[add]") {
  Add<float> add("block1_add");
  CHECK_THROWS_WITH(add.forward(Tensor<float>(Shape{2, 4, 3, 3}), Tensor<float>(Shape{2, 4, 3, 4})),
                    Catch::Contains("block1_add") && Catch::Contains("[2,4,3,3]") && Catch::Contains("[2,4,3,4]"));
  add.forward(Tensor<float>(Shape{2, 3}), Tensor<float>(Shape{2, 3}));
  CHECK_THROWS_WITH(add.backward(Tensor<float>(Shape{3, 2})), Catch::Contains("block1_add") && Catch::Contains("[3,2]"));
}

TEST_CASE("Rescaling maps x to scale * x + offset and scales the gradient", "[rescaling]") {
  Rescaling<double> rescale(0.125, 2.0);
  REQUIRE(rescale.build_once(Shape{4}) == Shape{4});
  Tensor<double> x(Shape{1, 4}, {8, -16, 0, 1});
  const auto& y = rescale.forward(x);
  CHECK(y[0] == 3.0);
  CHECK(y[1] == 0.0);
  CHECK(y[2] == 2.0);
  CHECK(y[3] == 2.125);
  const auto& dx = rescale.backward(Tensor<double>(Shape{1, 4}, {1, 2, -4, 0}));
  CHECK(dx[0] == 0.125);
  CHECK(dx[1] == 0.25);
  CHECK(dx[2] == -0.5);
  CHECK(dx[3] == 0.0);
  CHECK(rescale.type() == "Rescaling");
  CHECK(rescale.parameters().size() == 0);
}

TEST_CASE("Rescaling gradients and errors", "[rescaling][gradcheck]") {
  Rescaling<double> rescale(-0.3, 0.7);
  require_gradients_match(rescale, random_tensor(Shape{2, 3, 4, 5}, 74));
  CHECK_THROWS_WITH(Rescaling<float>(0.0), Catch::Contains("Rescaling") && Catch::Contains("non-zero"));
  Rescaling<float> logits(0.125);
  logits.set_name("logit_scale");
  logits.build_once(Shape{10});
  CHECK_THROWS_WITH(logits.forward(Tensor<float>(Shape{2, 9})),
                    Catch::Contains("logit_scale") && Catch::Contains("[2,9]"));
}

TEST_CASE("A Sequential of all the layers: gradients and parameter bookkeeping", "[integration][gradcheck]") {
  Sequential<double> model;
  model.add<ZeroPadding2D<double>>(1);
  model.add<Conv2D<double>>(4, 3, 2, Padding::valid);
  model.add<BatchNorm<double>>();
  model.add<ReLU<double>>();
  model.add<MaxPool2D<double>>(2, 1, Padding::same);
  model.add<Dropout<double>>(0.25, 9);
  model.add<GlobalAveragePooling2D<double>>();
  model.add<BatchNorm<double>>();
  model.add<Dense<double>>(3);
  model.setup(Shape{3, 7, 7}, 5);
  // Conv 4*3*3*3 + 4, two BNs of 4 channels x 4 entries, Dense 4*3 + 3.
  CHECK(model.parameters().size() == 112 + 16 + 16 + 15);
  std::int64_t trainable = 0;
  for (const auto& r : model.trainable_ranges()) trainable += r.second;
  CHECK(trainable == 112 + 8 + 8 + 15);  // the moving statistics are not optimised

  auto& dropout = static_cast<Dropout<double>&>(model.layer("dropout"));
  require_gradients_match(model, random_tensor(Shape{3, 3, 7, 7}, 81), 1e-6, [&] { dropout.rng() = Rng(4); });
}
