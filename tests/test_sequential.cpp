#include <catch2/catch.hpp>

#include <sstream>

#include "layer_test_helpers.hpp"
#include "tinynet/layers/bottleneck.hpp"
#include "tinynet/layers/conv2d.hpp"
#include "tinynet/layers/dense.hpp"
#include "tinynet/layers/flatten.hpp"
#include "tinynet/layers/relu.hpp"
#include "tinynet/layers/residual.hpp"
#include "tinynet/layers/sequential.hpp"
#include "tinynet/layers/zero_padding2d.hpp"

using namespace tinynet;

TEST_CASE("Sequential builds, names layers, and keeps parameters in one buffer", "[sequential]") {
  Sequential<float> model;
  model.add<Conv2D<float>>(4, 3);
  model.add<ReLU<float>>();
  model.add<Conv2D<float>>(2, 3, 2, Padding::valid);
  model.add<Flatten<float>>();
  model.add<Dense<float>>(10);
  model.setup(Shape{3, 9, 9}, 42);
  CHECK(model.layer(0).name() == "conv2d");
  CHECK(model.layer(2).name() == "conv2d_1");
  CHECK(model.output_shape() == Shape{10});
  const std::int64_t expected = (4 * 3 * 9 + 4) + (2 * 4 * 9 + 2) + (2 * 4 * 4 * 10 + 10);
  CHECK(model.parameters().size() == expected);
  // every layer's values are a view into the model buffer
  auto& conv = static_cast<Conv2D<float>&>(model.layer(0));
  conv.kernel()[0] = 123.0f;
  CHECK(model.parameters().values()[0] == 123.0f);
  CHECK(model.parameters().entries()[0].name == "conv2d/kernel");

  std::ostringstream os;
  model.summary(os);
  CHECK_THAT(os.str(), Catch::Contains("conv2d_1 (Conv2D)") && Catch::Contains("(None, 2, 4, 4)") &&
                           Catch::Contains("Total params: " + std::to_string(expected)));

  Tensor<float> x(Shape{2, 3, 9, 9});
  CHECK(model.forward(x).shape() == Shape{2, 10});
}

TEST_CASE("Sequential gradients through conv, relu, flatten, dense", "[sequential][gradcheck]") {
  Sequential<double> model;
  model.add<Conv2D<double>>(3, 3, 2);
  model.add<ReLU<double>>();
  model.add<Flatten<double>>();
  model.add<Dense<double>>(4);
  tinynet_test::require_gradients_match(model, tinynet_test::random_tensor(Shape{2, 2, 5, 5}, 9));
}

TEST_CASE("A model's layers share a few gradient blocks; nested composites keep live gradients apart",
          "[sequential][gradcheck]") {
  // A Residual (its input gradient is read again after its branch), a projection and an
  // identity Bottleneck (their summed gradient feeds both paths) and Flatten (returns a view of
  // its dy): a block lent while a gradient in it is still needed would break the gradients.
  Sequential<double> model;
  model.add<Conv2D<double>>(8, 3);
  auto branch = std::make_unique<Sequential<double>>();
  branch->add<Conv2D<double>>(8, 3);
  branch->add<ReLU<double>>();
  branch->add<Conv2D<double>>(8, 3);
  model.add<Residual<double>>(std::move(branch));
  BottleneckOptions projection;
  projection.stride = 2;
  projection.projection = true;
  model.add<Bottleneck<double>>(2, projection);
  model.add<Bottleneck<double>>(2);
  model.add<Flatten<double>>();
  model.add<Dense<double>>(3);
  const Tensor<double> x = tinynet_test::random_tensor(Shape{2, 3, 6, 6}, 17);
  tinynet_test::require_gradients_match(model, x, 1e-5, {}, 1e-5);  // floor: as the Bottleneck's own check

  const GradientPool<double>* pool = model.gradient_pool();
  REQUIRE(pool != nullptr);
  CHECK(pool->block_numel() == 2 * 8 * 6 * 6);  // the batch's largest gradient (the Residual's)
  CHECK(pool->blocks() == 4);                    // what the projection block keeps live at once
  CHECK(static_cast<const Composite<double>&>(model.layer(1)).gradient_pool() == pool);
}

TEST_CASE("Sequential reports which layer failed to build", "[sequential]") {
  Sequential<float> model;
  model.add<Conv2D<float>>(4, 3, 1, Padding::valid);
  model.add<Dense<float>>(3);
  CHECK_THROWS_WITH(model.setup(Shape{3, 8, 8}), Catch::Contains("'dense'") && Catch::Contains("[4,6,6]") &&
                                                     Catch::Contains("Flatten"));
}

TEST_CASE("Sequential skips work nobody needs: no dx behind the first learning layer", "[sequential]") {
  Sequential<double> model;
  model.add<ZeroPadding2D<double>>(1);
  model.add<Conv2D<double>>(3, 3, 2);
  model.add<ReLU<double>>();
  model.add<Flatten<double>>();
  model.add<Dense<double>>(4);
  model.set_input_grad_needed(false);
  // parameter gradients stay exact when no input gradient is computed
  tinynet_test::require_gradients_match(model, tinynet_test::random_tensor(Shape{2, 2, 5, 5}, 8));
  Tensor<double> x = tinynet_test::random_tensor(Shape{2, 2, 5, 5}, 9);
  const auto& y = model.forward(x);
  CHECK(model.backward(y).empty());
  // with the convolution frozen, backward stops at the dense layer
  model.layer(1).set_trainable(false);
  model.forward(x);
  CHECK(model.backward(y).empty());
  CHECK(model.layer(3).input_grad_needed());
  CHECK_FALSE(model.layer(4).input_grad_needed());
}
