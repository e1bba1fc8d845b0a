// DivergenceGuard: the loss bound, non-finite gradients and weights named by parameter and
// layer, gradient-norm clipping on the trainable ranges only, and fit() stopping a diverging run.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <limits>
#include <memory>

#include "test_support.hpp"
#include "tiny_models.hpp"
#include "tinynet/tinynet.hpp"
#include "tinynet/training/divergence_guard.hpp"

using namespace tinynet;
using tinynet_test::error_message;
using Catch::Contains;

namespace {

const ParameterSet<float>::Entry& entry(const Layer<float>& model, const std::string& suffix) {
  for (const auto& e : model.parameters().entries())
    if (e.name.size() >= suffix.size() && e.name.compare(e.name.size() - suffix.size(), suffix.size(), suffix) == 0)
      return e;
  FAIL("no parameter ending in " << suffix);
  return model.parameters().entries().front();
}

}  // namespace

TEST_CASE("the loss bound and a non-finite loss stop training, naming the step", "[training][divergence]") {
  const DivergenceGuard<float> guard;
  const TrainingStep at{2, 7, 1e6};
  guard.check_loss(2.3, at);
  CHECK_THAT(error_message([&] { guard.check_loss(7e27, at); }),
             Contains("diverged at epoch 2 step 7 (learning rate 1e+06)") && Contains("the loss 7e+27 is above the bound 100") &&
                 Contains("Lower the learning rate"));
  CHECK_THAT(error_message([&] { guard.check_loss(std::numeric_limits<double>::quiet_NaN(), at); }),
             Contains("the loss became nan"));
  CHECK_THAT(error_message([] { DivergenceGuard<float>(DivergenceOptions{0, 0, 1}); }), Contains("max_loss 0"));
  CHECK_THAT(error_message([] { DivergenceGuard<float>(DivergenceOptions{100, -1, 1}); }),
             Contains("clip_gradient_norm -1"));
  CHECK_THAT(error_message([] { DivergenceGuard<float>(DivergenceOptions{100, 0, 0}); }), Contains("check_every 0"));
}

TEST_CASE("a non-finite gradient or weight is named with its layer", "[training][divergence]") {
  auto net = tinynet_test::tiny_net();
  DivergenceGuard<float> guard;
  auto& ps = net->parameters();
  ps.grads().zero();
  CHECK(guard.check_gradients(*net, {1, 1, 0.1}) == 0);
  const auto& bias = entry(*net, "dense/bias");
  const std::string layer = bias.name.substr(0, bias.name.find_last_of('/'));
  ps.grads()[bias.offset + 1] = std::numeric_limits<float>::infinity();
  CHECK_THAT(error_message([&] { guard.check_gradients(*net, {3, 12, 0.5}); }),
             Contains("epoch 3 step 12") && Contains("the gradient of parameter '" + bias.name + "' (layer '" + layer +
                                                     "') at element 1 is inf"));

  const auto& variance = entry(*net, "moving_variance");
  ps.values()[variance.offset] = std::numeric_limits<float>::quiet_NaN();
  CHECK_THAT(error_message([&] { guard.check_weights(*net, {1, 4, 0.1}); }),
             Contains("after the optimizer step, parameter '" + variance.name + "'") && Contains("is nan"));

  // Scans run every check_every steps only.
  DivergenceGuard<float> sparse(DivergenceOptions{100, 0, 5});
  sparse.check_weights(*net, {1, 4, 0.1});
  CHECK(sparse.check_gradients(*net, {1, 4, 0.1}) == -1);
  CHECK_THROWS(sparse.check_weights(*net, {1, 5, 0.1}));
}

TEST_CASE("gradient clipping scales the trainable gradients to the norm bound", "[training][divergence]") {
  auto net = tinynet_test::tiny_net();
  auto& ps = net->parameters();
  ps.grads().zero();
  const auto& kernel = entry(*net, "dense/kernel");  // [8, 3]
  const auto& mean = entry(*net, "moving_mean");
  ps.grads()[kernel.offset] = 3;
  ps.grads()[kernel.offset + 3] = -4;
  ps.grads()[mean.offset] = 1000;  // a statistic: not trained, neither counted nor scaled
  DivergenceGuard<float> guard(DivergenceOptions{100, 1, 1});
  CHECK(guard.check_gradients(*net, {1, 1, 0.1}) == Approx(5));
  CHECK(ps.grads()[kernel.offset] == Approx(0.6f));
  CHECK(ps.grads()[kernel.offset + 3] == Approx(-0.8f));
  CHECK(ps.grads()[mean.offset] == 1000);
  CHECK(guard.check_gradients(*net, {1, 2, 0.1}) == Approx(1));  // within the bound: unchanged
  CHECK(ps.grads()[kernel.offset] == Approx(0.6f));
}

TEST_CASE("fit stops a diverging run at the step, and never saves its NaN", "[training][divergence]") {
  auto net = tinynet_test::tiny_net();
  ImageDataset data;
  data.class_names = {"a", "b", "c"};
  data.images = Tensor<std::uint8_t>(Shape{24, 1, 4, 4});
  for (std::int64_t i = 0; i < data.images.numel(); ++i) data.images[i] = static_cast<std::uint8_t>(i * 29);
  for (int i = 0; i < 24; ++i) data.labels.push_back(i % 3);
  BatchLoaderOptions loader_options;
  loader_options.batch_size = 8;
  loader_options.workers = 1;
  BatchLoader loader(data, loader_options);
  SoftmaxCrossEntropy<float> loss;
  Adam<float> adam(AdamOptions{1e4});  // far too high
  ConstantLr schedule(1e4);
  Trainer<float> trainer(*net, loss, adam, schedule);
  tinynet_test::TempDir dir("divergence");
  FitOptions options;
  options.epochs = 3;
  options.checkpoint_path = dir.file("checkpoint.tnck");
  options.log = nullptr;
  options.live_progress = false;
  CHECK_THAT(error_message([&] { trainer.fit(loader, nullptr, options); }),
             Contains("training diverged at epoch 1 step") && Contains("learning rate 10000") &&
                 Contains("Lower the learning rate"));
  CHECK_FALSE(std::filesystem::exists(options.checkpoint_path));
  CHECK(first_non_finite(net->parameters().values().data(), net->parameters().size()) < 0);
}
