// The examples' training recipes (examples/common/recipes.hpp) and how a saved run finds
// its recipe again (examples/common/saved_run.hpp).
#include <catch2/catch.hpp>

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
  CHECK_FALSE(job.flip_tta);
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
  CHECK(job.flip_tta);
  CHECK(job.make_optimizer(job)->name() == "SGD");
  const auto schedule = job.make_schedule(job);
  CHECK(schedule->rate(1, 0.25) == Approx(0.005));  // the peak, a quarter into the run
  CHECK(schedule->rate(4, 0.999) < 1e-6);            // annealed to about zero
  settings.size = 56;
  CHECK(resnet50_recipe(settings).input_size == 56);
  settings.recipe = "adam";
  CHECK_THROWS_WITH(resnet50_recipe(settings), Catch::Contains("unknown ResNet50 recipe 'adam'"));
}

TEST_CASE("A saved ResNet50 run is rebuilt with the recipe its metrics name", "[recipes]") {
  const CifarJob fast = recipe_for_run("resnet50", json::parse(R"({"recipe": "fast", "input_size": 64})"));
  CHECK(fast.flip_tta);
  CHECK(fast.input_size == 64);
  // Runs written before metrics.json had "recipe" were notebook runs.
  const CifarJob old = recipe_for_run("resnet50", json::parse(R"({"input_size": 48})"));
  CHECK(old.recipe == "notebook");
  CHECK_FALSE(old.flip_tta);
}
