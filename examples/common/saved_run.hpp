// examples/common/saved_run.hpp: reading back a finished job's folder.
//
// A job folder (see cifar_job.hpp) holds metrics.json, history.csv and model.tnck.
// load_saved_run() rebuilds the job's model (from the job name), loads its weights and
// recovers every reported figure, so finished runs are not retrained and saved models
// can classify new images.
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "common/recipes.hpp"
#include "tinynet/io/json.hpp"

namespace tinynet_examples {

struct SavedRun {
  CifarJob job;  // build / preprocessing / input size of the saved model
  CifarJobResult result;
  std::vector<std::string> class_names;
};

// ensures: true when `dir` holds a completed job (its metrics.json exists).
inline bool is_finished_run(const std::string& dir) { return std::filesystem::exists(dir + "/metrics.json"); }

// ensures: the job recipe that produced a run called `name` (its metrics' "recipe";
// runs written before that field: notebook). Runs of the earlier fast recipe (fast_resnet,
// a ResNet-9) are refused with a message: that network is no longer built.
inline CifarJob recipe_for_run(const std::string& name, const json::Value& metrics) {
  const json::Value* recipe = metrics.find("recipe");
  check(name != "fast_resnet", "run '", name,
        "' comes from the earlier fast recipe (a ResNet-9 this version no longer builds); train it again");
  if (name == "scratch_cnn" || name == "fast_cnn")
    return scratch_recipe(name == "scratch_cnn" ? "notebook" : "fast", ImageDataset{});
  check(name == "resnet50", "unknown run '", name, "' (expected scratch_cnn, fast_cnn or resnet50)");
  ResNet50Settings settings;
  settings.recipe = recipe ? recipe->as_string() : "notebook";
  settings.size = metrics.at("input_size").as_int64();
  return resnet50_recipe(settings);
}

// requires: `dir` holds a finished job. ensures: its figures; with load_model, also the
// rebuilt model with the saved weights (returned through `model`).
inline SavedRun load_saved_run(const std::string& dir, std::unique_ptr<Sequential<float>>* model = nullptr) {
  std::ifstream in(dir + "/metrics.json");
  check(in.good(), "cannot read '", dir, "/metrics.json' (is this a finished run folder?)");
  std::stringstream text;
  text << in.rdbuf();
  const json::Value m = json::parse(text.str(), dir + "/metrics.json");
  SavedRun run;
  run.job = recipe_for_run(m.at("name").as_string(), m);
  run.job.out_dir = dir;
  run.job.input_size = m.at("input_size").as_int64();
  const std::string kind = m.at("preprocessing").as_string();
  if (kind == "caffe") run.job.preprocessing = Preprocessing::caffe();
  else if (kind == "unit") run.job.preprocessing = Preprocessing::unit_range();
  else {
    ChannelStats stats;
    for (const auto& v : m.at("channel_mean").elements()) stats.mean.push_back(v.as_number());
    for (const auto& v : m.at("channel_stddev").elements()) stats.stddev.push_back(v.as_number());
    run.job.preprocessing = Preprocessing::standardize(stats);
  }
  CifarJobResult& r = run.result;
  r.name = m.at("name").as_string();
  r.approach = m.at("approach").as_string();
  r.architecture = m.at("architecture").as_string();
  r.parameters = m.at("parameters").as_int64();
  std::vector<std::int64_t> shape;
  for (const auto& v : m.at("input_shape").elements()) shape.push_back(v.as_int64());
  r.input_shape = Shape(shape);
  r.train_seconds = m.at("train_seconds").as_number();
  r.images_per_second = m.at("images_per_second").as_number();
  r.test.accuracy = m.at("test_accuracy").as_number();
  r.test.loss = m.at("test_loss").as_number();
  for (const auto& c : m.at("class_names").elements()) run.class_names.push_back(c.as_string());
  const int K = static_cast<int>(run.class_names.size());
  r.test.confusion = ConfusionMatrix(K);
  const auto& counts = m.at("confusion").elements();
  check(static_cast<int>(counts.size()) == K * K, dir, "/metrics.json: confusion has ", counts.size(), " cells for ", K,
        " classes");
  for (int t = 0; t < K; ++t)
    for (int p = 0; p < K; ++p)
      for (std::int64_t c = counts[t * K + p].as_int64(); c > 0; --c) r.test.confusion.add(t, p);
  for (const auto& v : m.at("predictions").elements()) r.test.predictions.push_back(static_cast<int>(v.as_int64()));
  r.history = History::read_csv(dir + "/history.csv");
  if (model) {
    *model = run.job.build(run.job);
    (*model)->setup(r.input_shape, run.job.seed);
    load_checkpoint<float>(dir + "/model.tnck", **model, nullptr);
  }
  return run;
}

}  // namespace tinynet_examples
