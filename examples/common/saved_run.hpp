// examples/common/saved_run.hpp: reading back a finished job's folder.
//
// A job folder (see cifar_job.hpp) holds metrics.json, history.csv and model.tnck.
// load_saved_run() rebuilds the job's model (from the job name), loads its weights and
// recovers every reported figure, so finished runs are not retrained and saved models
// can classify new images.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "common/recipes.hpp"
#include "common/run_result.hpp"

namespace tinynet_examples {

struct SavedRun {
  CifarJob job;  // build / preprocessing / input size of the saved model
  CifarJobResult result;
};

// ensures: true when `dir` holds a completed job (its metrics.json exists).
inline bool is_finished_run(const std::string& dir) { return std::filesystem::exists(dir + "/metrics.json"); }

// ensures: the job recipe that produced `run` (by its name, recipe, fixes and input size). Runs of
// the earlier fast recipe (fast_resnet, a ResNet-9) are refused with a message: that network
// is no longer built.
inline CifarJob recipe_for_run(const CifarJobResult& run) {
  const std::string& name = run.name;
  check(name != "fast_resnet", "run '", name,
        "' comes from the earlier fast recipe (a ResNet-9 this version no longer builds); train it again");
  if (name == "scratch_cnn")
    return scratch_recipe("notebook", ImageDataset{}, {}, notebook_bn_momentum_from_fixes(run.recipe_fixes));
  if (name == "fast_cnn") return scratch_recipe("fast", ImageDataset{}, fast_recipe_fixes_from_names(run.recipe_fixes));
  check(name == "resnet50", "unknown run '", name, "' (expected scratch_cnn, fast_cnn or resnet50)");
  ResNet50Settings settings;
  settings.recipe = run.recipe;
  settings.size = run.input_size;
  return resnet50_recipe(settings);
}

// requires: `dir` holds a finished job. ensures: its figures; with `model`, also the
// rebuilt model with the saved weights (returned through `model`).
inline SavedRun load_saved_run(const std::string& dir, std::unique_ptr<Sequential<float>>* model = nullptr) {
  SavedRun run;
  run.result = read_run_result(dir);
  run.job = recipe_for_run(run.result);
  run.job.out_dir = dir;
  run.job.input_size = run.result.input_size;
  run.job.preprocessing = run.result.preprocessing;
  if (model) {
    *model = run.job.build(run.job);
    (*model)->setup(run.result.input_shape, run.job.seed);
    load_checkpoint<float>(dir + "/model.tnck", **model, nullptr);
  }
  return run;
}

}  // namespace tinynet_examples
