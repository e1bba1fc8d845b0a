// The examples' training recipes (examples/common/recipes.hpp) and how a saved run finds
// its recipe again (examples/common/saved_run.hpp).
#include <catch2/catch.hpp>

#include <cmath>

#include "common/recipes.hpp"
#include "common/saved_run.hpp"

using namespace tinynet_examples;

TEST_CASE("ResNet50 notebook recipe: the Keras notebook's settings", "[recipes]") {
  const CifarJob job = resnet50_recipe(ResNet50Settings{});
  CHECK(job.recipe == "notebook");
  CHECK(job.input_size == 48);
  CHECK(job.epochs == 15);
  CHECK(job.batch_size == 64);
  CHECK(job.augment.rotation_range == 15);
  CHECK(job.label_smoothing == 0);
  CHECK_FALSE(job.tta.flip);
  CHECK(job.make_optimizer(job)->name() == "Adam");
  CHECK(job.make_schedule(job)->rate(10, 0.5) == Approx(1e-4));
}

TEST_CASE("ResNet50 fast recipe: 96x96, SGD one-cycle, smoothing, crop+flip, flip TTA", "[recipes]") {
  ResNet50Settings settings;
  settings.recipe = "fast";
  const CifarJob job = resnet50_recipe(settings);
  CHECK(job.recipe == "fast");
  CHECK(job.input_size == 96);
  CHECK(job.epochs == 5);
  CHECK(job.batch_size == 64);
  CHECK(job.augment.rotation_range == 0);
  CHECK(job.augment.crop_padding == 4);
  CHECK(job.augment.horizontal_flip);
  CHECK(job.label_smoothing == Approx(0.1));
  CHECK(job.tta.flip);
  CHECK(job.tta.translate == 0);
  CHECK(job.make_optimizer(job)->name() == "SGD");
  const auto schedule = job.make_schedule(job);
  CHECK(schedule->rate(1, 0.25) == Approx(0.005));  // the peak, a quarter into the run
  CHECK(schedule->rate(4, 0.999) < 1e-6);            // annealed to about zero
  settings.size = 56;
  CHECK(resnet50_recipe(settings).input_size == 56);
  settings.recipe = "adam";
  CHECK_THROWS_WITH(resnet50_recipe(settings), Catch::Contains("unknown ResNet50 recipe 'adam'"));
}

TEST_CASE("Scratch fast recipe: the whitened CNN, its stem whitened from the training images", "[recipes]") {
  ImageDataset train;
  train.class_names = {"a", "b"};
  train.images = Tensor<std::uint8_t>(Shape{4, 3, 32, 32});
  Rng rng(2);
  for (auto& v : train.images) v = static_cast<std::uint8_t>(rng.below(256));
  train.labels = {0, 1, 0, 1};
  CifarJob job = scratch_recipe("fast", train);
  CHECK(job.recipe == "fast");
  CHECK(job.batch_size == 1024);
  CHECK(job.augment.crop_padding == 2);
  CHECK(job.augment.cutout_size == 0);
  CHECK(job.augment.alternate_flips);
  REQUIRE(job.lookahead);
  CHECK(job.lookahead->every == 5);
  CHECK(job.lookahead->decay == Approx(std::pow(0.95, 5)));
  CHECK(job.label_smoothing == Approx(0.2));
  CHECK(job.tta.flip);
  CHECK(job.tta.translate == 1);
  CHECK(job.epochs == 15);
  CHECK(job.validation_fraction == 0);  // all 50,000 training images
  CHECK(job.preprocessing.kind == Preprocessing::Kind::standardize);
  auto schedule = job.make_schedule(job);
  CHECK(schedule->rate(0, 0.0) == Approx(job.learning_rate / 5));
  CHECK(schedule->rate(job.epochs - 1, 0.9999) == Approx(job.learning_rate * 0.07).epsilon(0.01));
  auto net = job.build(job);
  net->setup(Shape{3, 32, 32}, 1);
  REQUIRE(job.initialize_weights);
  job.initialize_weights(*net);
  // the stem holds the whitening kernel of those images (standardised as the recipe does)
  Tensor<float> images;
  preprocess_batch(train.images, {0, 1, 2, 3}, job.preprocessing, images);
  const Tensor<float> expected = patch_whitening_kernel(images, whitening_patch, 5e-4);
  const Tensor<float> stem = static_cast<Conv2D<float>&>(net->layer("whitening")).kernel();
  for (std::int64_t i = 0; i < expected.numel(); ++i) CHECK(stem[i] == expected[i]);
  // A saved run has no training images: no stem initialisation (its checkpoint has it).
  CHECK_FALSE(scratch_recipe("fast", ImageDataset{}).initialize_weights);
}

TEST_CASE("A run result reads back from its JSON; a saved ResNet50 run gets the recipe it names", "[recipes]") {
  CifarJobResult run;
  run.name = "resnet50";
  run.recipe = "fast";
  run.input_size = 64;
  run.input_shape = Shape{3, 64, 64};
  run.class_names = {"cat", "dog"};
  run.preprocessing = Preprocessing::standardize({{0.5, 0.25, 0.125}, {0.2, 0.3, 0.4}});
  run.test.confusion = ConfusionMatrix(2);
  run.test.confusion.add(0, 1, 3);
  run.test.predictions = {1, 1, 1};
  run.test.accuracy = 0.25;
  const CifarJobResult back = run_result_from_json(nlohmann::json::parse(to_json(run).dump()), "run.json");
  CHECK(back.name == run.name);
  CHECK(back.input_shape == run.input_shape);
  CHECK(back.preprocessing.stats.stddev == run.preprocessing.stats.stddev);
  CHECK(back.test.confusion.counts() == run.test.confusion.counts());
  CHECK(back.test.predictions == run.test.predictions);
  CHECK(back.test.accuracy == 0.25);

  const CifarJob fast = recipe_for_run(back);
  CHECK(fast.tta.flip);
  CHECK(fast.input_size == 64);
  // Runs written before metrics.json had "recipe" were notebook runs.
  nlohmann::json old = nlohmann::json::parse(to_json(run).dump());
  old.erase("recipe");
  const CifarJob notebook = recipe_for_run(run_result_from_json(old, "old.json"));
  CHECK(notebook.recipe == "notebook");
  CHECK_FALSE(notebook.tta.flip);
  old.erase("test_loss");
  CHECK_THROWS_WITH(run_result_from_json(old, "old.json"), Catch::Contains("old.json") && Catch::Contains("test_loss"));
}
