// The examples' training recipes (examples/common/recipes.hpp) and how a saved run finds
// its recipe again (examples/common/saved_run.hpp).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

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

TEST_CASE("The quick look's ResNet50: three epochs of the head alone at 10x the rate", "[recipes]") {
  CifarJob job = resnet50_recipe(ResNet50Settings{});
  make_quick_look(job);
  CHECK(job.epochs == 3);
  CHECK(job.first_phase_epochs == 3);  // the base stays frozen throughout
  REQUIRE(job.set_phase);
  const auto schedule = job.make_schedule(job);
  CHECK(schedule->rate(0, 0.5) == Approx(1e-3));
  CHECK(schedule->rate(2, 0.9) == Approx(1e-3));
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
  // the steps towards airbench94, all on by default
  CHECK(job.recipe_fixes.size() == fast_recipe_fix_table().size());
  CHECK(job.drop_last);
  CHECK(job.augment.crop_reflect);
  CHECK(job.lookahead->start_epoch == 3);
  CHECK(job.lookahead->reset_each_epoch);
  CHECK(job.tta.average_logits);
  CHECK(job.first_phase_epochs == 3);
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
  // GELU after the stem and each BatchNorm; the stem's bias alone learns in the first phase.
  int gelus = 0;
  for (std::size_t i = 0; i < net->size(); ++i) gelus += net->layer(i).type() == "GELU";
  CHECK(gelus == 7);
  CHECK_FALSE(net->layer("whitening").trainable());
  job.set_phase(*net, true);
  std::vector<std::pair<std::int64_t, std::int64_t>> ranges;
  net->layer("whitening").collect_trainable_ranges(0, ranges);
  REQUIRE(ranges.size() == 1);
  CHECK(ranges[0] == std::make_pair(std::int64_t(24 * 12), std::int64_t(24)));  // the bias, after the kernel
  job.set_phase(*net, false);
  CHECK_FALSE(net->layer("whitening").trainable());
  // A saved run has no training images: no stem initialisation (its checkpoint has it).
  CHECK_FALSE(scratch_recipe("fast", ImageDataset{}).initialize_weights);
}

TEST_CASE("Fast recipe: its stem whitens 5,000 images spread over a class-ordered training set", "[recipes]") {
  ImageDataset train;  // 10,000 images of 2x2 pixels, stored class by class as image folders are
  train.class_names = {"a", "b"};
  train.images = Tensor<std::uint8_t>(Shape{10000, 3, 2, 2});
  Rng rng(5);
  for (auto& v : train.images) v = static_cast<std::uint8_t>(rng.below(128));
  train.labels.assign(10000, 0);
  for (std::int64_t i = 5000; i < 10000; ++i) {
    train.labels[static_cast<std::size_t>(i)] = 1;
    for (std::int64_t k = 0; k < 12; ++k) train.images[i * 12 + k] = static_cast<std::uint8_t>(255 - (k % 5) * 20);
  }
  auto stem_of = [&](const FastRecipeFixes& fixes) {  // the kernel the recipe puts into a stem
    CifarJob job = scratch_recipe("fast", train, fixes);
    Sequential<float> net("stem_only");
    net.add<Conv2D<float>>(24, 2, 1, Padding::valid).set_name("whitening");
    net.setup(Shape{3, 2, 2}, 1);
    job.initialize_weights(net);
    return static_cast<Conv2D<float>&>(net.layer("whitening")).kernel().clone();
  };
  auto whitening_of = [&](std::int64_t first, std::int64_t step) {
    std::vector<std::int64_t> sample;
    for (std::int64_t i = 0; i < 5000; ++i) sample.push_back(first + i * step);
    Tensor<float> images;
    preprocess_batch(train.images, sample, Preprocessing::standardize(compute_channel_stats(train)), images);
    return patch_whitening_kernel(images, whitening_patch, 5e-4);
  };
  const Tensor<float> spread = stem_of(FastRecipeFixes{}), first = stem_of(fast_recipe_fixes_without("whitening-sample"));
  const Tensor<float> every_second = whitening_of(0, 2), first_class = whitening_of(0, 1);
  for (std::int64_t i = 0; i < spread.numel(); ++i) {
    CHECK(spread[i] == every_second[i]);
    CHECK(first[i] == first_class[i]);
  }
  double difference = 0;
  for (std::int64_t i = 0; i < spread.numel(); ++i) difference = std::max<double>(difference, std::abs(spread[i] - first[i]));
  CHECK(difference > 0.1);
}

TEST_CASE("Fast recipe fixes: switched off by name, recorded by runs, rebuilt by saved runs", "[recipes]") {
  const FastRecipeFixes some = fast_recipe_fixes_without("gelu,drop-last");
  CHECK_FALSE(some.gelu);
  CHECK_FALSE(some.drop_last);
  CHECK(some.reflect_crops);
  CHECK(fast_recipe_fix_names(some).size() == fast_recipe_fix_table().size() - 2);
  CHECK(fast_recipe_fix_names(fast_recipe_fixes_from_names(fast_recipe_fix_names(some))) == fast_recipe_fix_names(some));
  CHECK_THROWS_WITH(fast_recipe_fixes_without("gelu,relu"),
                    Catch::Contains("unknown fast-recipe fix 'relu'") && Catch::Contains("whitening-sample"));
  const CifarJob relu_job = scratch_recipe("fast", ImageDataset{}, some);
  CHECK_FALSE(relu_job.drop_last);
  auto has_gelu = [](const CifarJob& job) {
    auto net = job.build(job);
    for (std::size_t i = 0; i < net->size(); ++i)
      if (net->layer(i).type() == "GELU") return true;
    return false;
  };
  CHECK_FALSE(has_gelu(relu_job));
  // A saved fast run rebuilds with the fixes it recorded; one from before them had none (ReLU).
  CifarJobResult run;
  run.name = "fast_cnn";
  run.recipe = "fast";
  run.recipe_fixes = fast_recipe_fix_names(FastRecipeFixes{});
  run.class_names = {"a"};
  run.test.confusion = ConfusionMatrix(1);
  nlohmann::json j = nlohmann::json::parse(to_json(run).dump());
  CHECK(has_gelu(recipe_for_run(run_result_from_json(j, "new.json"))));
  CHECK(recipe_for_run(run_result_from_json(j, "new.json")).tta.average_logits);
  j.erase("recipe_fixes");
  const CifarJob old = recipe_for_run(run_result_from_json(j, "old.json"));
  CHECK_FALSE(has_gelu(old));
  CHECK_FALSE(old.tta.average_logits);
  CHECK_FALSE(old.augment.crop_reflect);
}

TEST_CASE("Notebook recipe: BatchNorm momentum 0.9 by default, recorded, rebuilt by saved runs", "[recipes]") {
  auto momenta = [](const CifarJob& job) {
    auto net = job.build(job);
    std::vector<double> found;
    for (std::size_t i = 0; i < net->size(); ++i)
      if (const auto* bn = dynamic_cast<const BatchNorm<float>*>(&net->layer(i))) found.push_back(bn->momentum());
    return found;
  };
  const CifarJob fresh = scratch_recipe("notebook", ImageDataset{});
  CHECK(momenta(fresh) == std::vector<double>(5, 0.9));
  CHECK(fresh.recipe_fixes == std::vector<std::string>{"bn-momentum=0.9"});
  CHECK(scratch_recipe("notebook", ImageDataset{}, {}, 0.99).recipe_fixes.empty());

  CifarJobResult run;
  run.name = "scratch_cnn";
  run.recipe = "notebook";
  run.recipe_fixes = fresh.recipe_fixes;
  run.class_names = {"a"};
  run.test.confusion = ConfusionMatrix(1);
  nlohmann::json j = nlohmann::json::parse(to_json(run).dump());
  CHECK(momenta(recipe_for_run(run_result_from_json(j, "new.json"))) == std::vector<double>(5, 0.9));
  j.erase("recipe_fixes");  // a run from before the entry: Keras' 0.99
  CHECK(momenta(recipe_for_run(run_result_from_json(j, "old.json"))) == std::vector<double>(5, 0.99));
  CHECK_THROWS_WITH(notebook_bn_momentum_from_fixes({"gelu"}), Catch::Contains("unknown notebook-recipe entry 'gelu'"));
  CHECK_THROWS_WITH(notebook_bn_momentum_from_fixes({"bn-momentum=0.9x"}), Catch::Contains("'bn-momentum=0.9x'"));
  CHECK_THROWS_WITH(notebook_bn_momentum_from_fixes({"bn-momentum=2"}), Catch::Contains("in [0, 1]"));
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
