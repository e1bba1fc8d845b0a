#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <sstream>

#include "layer_test_helpers.hpp"
#include "tinynet/io/checkpoint.hpp"
#include "tinynet/layers/batch_norm.hpp"
#include "tinynet/layers/conv2d.hpp"
#include "tinynet/layers/dense.hpp"
#include "tinynet/layers/dropout.hpp"
#include "tinynet/layers/flatten.hpp"
#include "tinynet/layers/max_pool2d.hpp"
#include "tinynet/layers/relu.hpp"
#include "tinynet/layers/sequential.hpp"
#include "tinynet/optim/adam.hpp"
#include "tinynet/optim/lookahead.hpp"
#include "tinynet/training/trainer.hpp"

using namespace tinynet;

namespace {

std::unique_ptr<Sequential<float>> small_cnn(std::uint64_t seed = 3) {
  auto net = std::make_unique<Sequential<float>>("small_cnn");
  net->add<Conv2D<float>>(6, 3);
  net->add<ReLU<float>>();
  net->add<BatchNorm<float>>(BatchNormOptions{0.5, 1e-3});  // fast-moving statistics for short runs
  net->add<MaxPool2D<float>>(2);
  net->add<Dropout<float>>(0.2, seed);
  net->add<Flatten<float>>();
  net->add<Dense<float>>(4);
  return net;
}

// 4 classes of 8x8 images: a bright quadrant per class plus noise.
ImageDataset synthetic_dataset(std::int64_t n, std::uint64_t seed) {
  ImageDataset d;
  d.class_names = {"a", "b", "c", "d"};
  d.images = Tensor<std::uint8_t>(Shape{n, 3, 8, 8});
  Rng rng(seed);
  for (std::int64_t i = 0; i < n; ++i) {
    const int label = static_cast<int>(i % 4);
    d.labels.push_back(label);
    for (int c = 0; c < 3; ++c)
      for (int h = 0; h < 8; ++h)
        for (int w = 0; w < 8; ++w) {
          const bool bright = (h / 4) * 2 + (w / 4) == label;
          d.images.at(i, c, h, w) = static_cast<std::uint8_t>((bright ? 180 : 40) + rng.below(60));
        }
  }
  return d;
}

std::string temp_path(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("tinynet_test_training_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

// lookahead_steps > 0: Adam wrapped in Lookahead over that many steps (every 5, decay 0.8).
std::unique_ptr<Optimizer<float>> make_adam(std::int64_t lookahead_steps) {
  auto adam = std::make_unique<Adam<float>>(AdamOptions{});
  if (lookahead_steps == 0) return adam;
  return std::make_unique<Lookahead<float>>(std::move(adam), LookaheadOptions{5, 0.8, 1, lookahead_steps});
}

struct Run {
  explicit Run(std::int64_t lookahead_steps = 0) : optimizer(make_adam(lookahead_steps)) {
    model->setup(Shape{3, 8, 8}, 11);
  }
  std::unique_ptr<Sequential<float>> model = small_cnn();
  SoftmaxCrossEntropy<float> loss{0.1};
  std::unique_ptr<Optimizer<float>> optimizer;
  CosineLr schedule{3e-3, 4};
  Trainer<float> trainer{*model, loss, *optimizer, schedule};
};

BatchLoaderOptions loader_options() {
  BatchLoaderOptions o;
  o.batch_size = 16;
  o.seed = 5;
  o.workers = 2;
  o.augment.crop_padding = 1;  // random, but keeps the bright quadrant (a flip would not)
  return o;
}

}  // namespace

TEST_CASE("A small CNN drives the loss near zero on a fixed batch", "[training]") {
  auto model = small_cnn();
  model->setup(Shape{3, 8, 8}, 1);
  static_cast<Dropout<float>&>(model->layer(4)).set_training(false);
  const ImageDataset data = synthetic_dataset(32, 2);
  Batch batch;
  std::vector<std::int64_t> all(32);
  for (int i = 0; i < 32; ++i) all[i] = i;
  make_batch(data, all.data(), 32, BatchFormat{}, batch);
  SoftmaxCrossEntropy<float> loss;
  Adam<float> adam(AdamOptions{});
  float first = 0, last = 0;
  for (int step = 0; step < 150; ++step) {
    last = loss.forward(model->forward(batch.images), batch.labels);
    if (step == 0) first = last;
    model->backward(loss.backward());
    adam.step(*model);
  }
  INFO("loss " << first << " -> " << last);
  CHECK(first > 1.0f);
  CHECK(last < 0.02f);
}

TEST_CASE("fit logs one plain line per epoch when not on a terminal, and evaluate scores", "[training]") {
  Run run;
  const ImageDataset train = synthetic_dataset(64, 3), val = synthetic_dataset(32, 4);
  BatchLoader loader(train, loader_options());
  std::ostringstream log;
  FitOptions options;
  options.epochs = 4;
  options.log = &log;
  options.history_prefix = temp_path("history");
  options.live_progress = false;
  const History h = run.trainer.fit(loader, &val, options);
  REQUIRE(h.epochs.size() == 4);
  const std::string text = log.str();
  CHECK(text.find('\r') == std::string::npos);
  CHECK(std::count(text.begin(), text.end(), '\n') == 4);
  CHECK_THAT(text, Catch::Contains("Epoch 4/4") && Catch::Contains("val_accuracy") && Catch::Contains("img/s"));
  CHECK(h.epochs[3].train_loss < h.epochs[0].train_loss);
  CHECK(h.epochs[1].learning_rate < 3e-3);  // the cosine schedule was applied
  CHECK(History::read_csv(options.history_prefix + ".csv").epochs == h.epochs);
  const Evaluation e = run.trainer.evaluate(val, BatchFormat{}, 10);
  CHECK(e.accuracy > 0.5);  // chance is 0.25
  CHECK(e.accuracy == Approx(h.epochs.back().val_accuracy));  // the same evaluation fit() ran
  CHECK(e.loss == Approx(h.epochs.back().val_loss));
  CHECK(e.confusion.total() == 32);
  CHECK(e.predictions.size() == 32);
  CHECK(e.probabilities.size() == 32 * 4);

  // Without a validation set the line leaves the val_* fields out; the history holds NaN.
  Run no_validation;
  std::ostringstream quiet_log;
  options.epochs = 1;
  options.log = &quiet_log;
  options.history_prefix.clear();
  const History alone = no_validation.trainer.fit(loader, nullptr, options);
  CHECK_THAT(quiet_log.str(), Catch::Contains("Epoch 1/1") && !Catch::Contains("val_"));
  CHECK(std::isnan(alone.epochs[0].val_accuracy));
}

TEST_CASE("Test-time augmentation: views, weights, reflected shifts and the averaged softmax", "[training]") {
  const auto weights = [](const TestTimeAugmentation& tta) {
    std::vector<double> w;
    for (const auto& v : test_time_views(tta)) w.push_back(v.weight);
    return w;
  };
  CHECK(weights({}) == std::vector<double>{1.0});
  CHECK(weights({true, 0}) == std::vector<double>{0.5, 0.5});
  CHECK(weights({false, 2}) == std::vector<double>{0.5, 0.25, 0.25});
  CHECK(weights({true, 1}) == std::vector<double>{0.25, 0.25, 0.125, 0.125, 0.125, 0.125});
  const auto six = test_time_views({true, 1});
  CHECK((six[0].shift == 0 && !six[0].flip && six[1].flip && six[2].shift == -1 && six[4].shift == 1));
  CHECK_THROWS_WITH(test_time_views({false, -1}), Catch::Contains("-1"));

  Tensor<float> ramp(Shape{1, 1, 3, 4}), view;  // value 10*y + x
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 4; ++x) ramp.at(0, 0, y, x) = static_cast<float>(10 * y + x);
  make_test_time_view(ramp, {1, false, 1}, view);  // in[r(y+1), r(x+1)]: the last row/column reflect
  CHECK(std::vector<float>(view.begin(), view.end()) ==
        std::vector<float>{11, 12, 13, 12, 21, 22, 23, 22, 11, 12, 13, 12});
  make_test_time_view(ramp, {-1, false, 1}, view);  // in[r(y-1), r(x-1)]: the first row/column reflect
  CHECK(std::vector<float>(view.begin(), view.end()) == std::vector<float>{11, 10, 11, 12, 1, 0, 1, 2, 11, 10, 11, 12});
  make_test_time_view(ramp, {0, true, 1}, view);  // the mirror
  CHECK(std::vector<float>(view.begin(), view.end()) == std::vector<float>{3, 2, 1, 0, 13, 12, 11, 10, 23, 22, 21, 20});
  make_test_time_view(ramp, {1, true, 1}, view);  // shifted, then mirrored
  CHECK(view.at(0, 0, 0, 0) == 12);
  CHECK(view.at(0, 0, 2, 3) == 11);
  CHECK_THROWS_WITH(make_test_time_view(ramp, {3, false, 1}, view), Catch::Contains("3x4"));

  // evaluate() averages the softmax of the six views with those weights.
  Run run;
  const ImageDataset data = synthetic_dataset(8, 9);
  const TestTimeAugmentation tta{true, 1};
  const Evaluation e = run.trainer.evaluate(data, BatchFormat{}, 8, true, tta);
  Batch batch;
  std::vector<std::int64_t> all{0, 1, 2, 3, 4, 5, 6, 7};
  make_batch(data, all.data(), 8, BatchFormat{}, batch);
  std::vector<double> expected(8 * 4, 0.0);
  run.model->set_training(false);
  for (const auto& v : test_time_views(tta)) {
    make_test_time_view(batch.images, v, view);
    const Tensor<float>& logits = run.model->forward(view);
    for (int n = 0; n < 8; ++n) {
      double sum = 0;
      for (int k = 0; k < 4; ++k) sum += std::exp(static_cast<double>(logits[n * 4 + k]));
      for (int k = 0; k < 4; ++k) expected[n * 4 + k] += v.weight * std::exp(static_cast<double>(logits[n * 4 + k])) / sum;
    }
  }
  REQUIRE(e.probabilities.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) CHECK(e.probabilities[i] == Approx(expected[i]).epsilon(1e-5));
}

TEST_CASE("2 + 2 epochs with a resume equal 4 epochs in one go", "[training][checkpoint]") {
  const ImageDataset train = synthetic_dataset(48, 6), val = synthetic_dataset(16, 7);
  // 3 steps per epoch: with Lookahead (12 steps, synchronised at steps 5, 10 and 12) the
  // checkpoint after epoch 2 (step 6) holds a slow copy that differs from the weights.
  const std::int64_t lookahead_steps = GENERATE(0, 12);
  INFO("Lookahead over " << lookahead_steps << " steps (0: none)");
  FitOptions options;
  options.log = nullptr;
  options.live_progress = false;

  Run straight(lookahead_steps);
  {
    BatchLoader loader(train, loader_options());
    options.epochs = 4;
    straight.trainer.fit(loader, &val, options);
  }

  const std::string ckpt = temp_path("resume.tnck");
  {
    Run first_half(lookahead_steps);
    BatchLoader loader(train, loader_options());
    options.epochs = 2;
    options.checkpoint_path = ckpt;
    first_half.trainer.fit(loader, &val, options);
  }
  Run second_half(lookahead_steps);
  const int done = resume_training(ckpt, *second_half.model, *second_half.optimizer, second_half.schedule);
  REQUIRE(done == 2);
  {
    BatchLoader loader(train, loader_options());
    options.epochs = 4;
    options.first_epoch = done;
    options.checkpoint_path.clear();
    second_half.trainer.fit(loader, &val, options);
  }
  const auto& a = straight.model->parameters().values();
  const auto& b = second_half.model->parameters().values();
  REQUIRE(a.numel() == b.numel());
  std::int64_t differing = 0;
  for (std::int64_t i = 0; i < a.numel(); ++i) differing += a[i] != b[i];
  CHECK(differing == 0);
  CHECK(straight.optimizer->iterations() == second_half.optimizer->iterations());
}

TEST_CASE("Checkpoints round-trip and reject mismatched models by name", "[checkpoint]") {
  Run run;
  const std::string path = temp_path("model.tnck");
  run.optimizer->step(*run.model);
  save_checkpoint(path, *run.model, run.optimizer.get(), CheckpointExtras{7, {{"note", "hello"}}});
  CHECK_FALSE(std::filesystem::exists(path + ".tmp." + std::to_string(::getpid())));

  Run other;
  other.model->parameters().values().fill(0.5f);
  const CheckpointExtras extras = load_checkpoint(path, *other.model, other.optimizer.get());
  CHECK(extras.epoch == 7);
  REQUIRE(extras.metadata.size() == 1);
  CHECK(extras.metadata[0].second == "hello");
  for (std::int64_t i = 0; i < run.model->parameters().size(); ++i)
    REQUIRE(other.model->parameters().values()[i] == run.model->parameters().values()[i]);
  CHECK(other.optimizer->iterations() == 1);

  SECTION("a double model loads a float checkpoint") {
    auto net = std::make_unique<Sequential<double>>("small_cnn");
    net->add<Conv2D<double>>(6, 3);
    net->add<ReLU<double>>();
    net->add<BatchNorm<double>>(BatchNormOptions{0.5, 1e-3});
    net->add<MaxPool2D<double>>(2);
    net->add<Dropout<double>>(0.2);
    net->add<Flatten<double>>();
    net->add<Dense<double>>(4);
    net->setup(Shape{3, 8, 8});
    load_checkpoint<double>(path, *net, nullptr);
    CHECK(net->parameters().values()[3] == Approx(run.model->parameters().values()[3]));
  }
  SECTION("a different architecture is refused, naming the parameter") {
    auto wide = std::make_unique<Sequential<float>>("small_cnn");
    wide->add<Conv2D<float>>(8, 3);
    wide->add<ReLU<float>>();
    wide->setup(Shape{3, 8, 8});
    CHECK_THROWS_WITH(load_checkpoint<float>(path, *wide, nullptr),
                      Catch::Contains("conv2d/kernel") && Catch::Contains("[6,3,3,3]") && Catch::Contains("[8,3,3,3]"));
  }
  SECTION("a truncated file fails its checksum; a foreign file is refused") {
    std::filesystem::resize_file(path, 200);
    CHECK_THROWS_WITH(load_checkpoint<float>(path, *other.model, nullptr),
                      Catch::Contains(path) && Catch::Contains("checksum mismatch"));
    const std::string junk = temp_path("junk.tnck");
    std::ofstream(junk) << "definitely not a checkpoint";
    CHECK_THROWS_WITH(load_checkpoint<float>(junk, *other.model, nullptr), Catch::Contains("bad magic"));
  }
}

TEST_CASE("Learning-rate schedules give the documented values", "[training]") {
  CHECK(StepLr(0.1, 0.5, 2).rate(3, 0.5) == Approx(0.05));
  CosineLr cosine(1.0, 10);
  CHECK(cosine.rate(0, 0) == Approx(1.0));
  CHECK(cosine.rate(5, 0) == Approx(0.5));
  CHECK(cosine.rate(10, 0) == Approx(0.0).margin(1e-12));
  OneCycleLr one(0.4, 10, 0.25, 25, 1e4);
  CHECK(one.rate(0, 0) == Approx(0.4 / 25));
  CHECK(one.rate(2, 0.5) == Approx(0.4));
  CHECK(one.rate(10, 0) == Approx(0.4 / 25 / 1e4));
  ReduceOnPlateauLr plateau(1.0, 0.5, 1);
  plateau.end_epoch(1.0);
  plateau.end_epoch(1.0);
  CHECK(plateau.rate(0, 0) == 1.0);
  plateau.end_epoch(1.0);
  CHECK(plateau.rate(0, 0) == 0.5);
  ReduceOnPlateauLr restored(1.0);
  restored.restore(plateau.state());
  CHECK(restored.rate(0, 0) == 0.5);
}

TEST_CASE("InputStager hands back what was staged, in order, without copying on the CPU", "[training]") {
  InputStager<float> stager(Device::cpu);
  CHECK_THROWS_WITH(stager.take(), Catch::Contains("nothing was staged"));
  Tensor<float> first(Shape{2, 3}), second(Shape{2, 3});
  first.fill(1.0f);
  second.fill(2.0f);
  stager.stage(first);
  const Tensor<float> a = stager.take();
  stager.stage(second);  // staging the next batch leaves the one in use alone
  CHECK(a.same_storage(first));
  CHECK(a[0] == 1.0f);
  CHECK(stager.take()[5] == 2.0f);
#ifndef TINYNET_WITH_CUDNN
  CHECK_THROWS_WITH(InputStager<float>(Device::cuda), Catch::Contains("TINYNET_WITH_CUDNN"));
#endif
}
