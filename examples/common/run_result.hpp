// examples/common/run_result.hpp: the result of one CIFAR-10 training run and its one JSON form.
//
// run_cifar_job() returns a CifarJobResult and writes it as <out>/metrics.json (to_json);
// read_run_result() reads such a file back (with history.csv beside it); the comparison
// report's results.json lists the same objects, each with what the report adds. This header
// is the only place that knows the run's JSON fields.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tinynet/data/normalize.hpp"
#include "tinynet/io/atomic_file.hpp"
#include "tinynet/training/history.hpp"
#include "tinynet/training/trainer.hpp"

namespace tinynet_examples {

using namespace tinynet;

struct CifarJobResult {
  std::string name;          // e.g. "scratch_cnn"; also names the report's files
  std::string approach;      // e.g. "CNN from scratch"
  std::string recipe = "notebook";  // the recipe that set the job up
  std::vector<std::string> recipe_fixes;  // the recipe's fixes and changes it used (none: runs from before them)
  std::string architecture;  // the model's name
  std::string device;        // e.g. "cpu (16 threads)"
  Shape input_shape;         // [C, H, W] the model takes
  std::int64_t input_size = 0;  // > 0: images resized to input_size x input_size
  std::int64_t parameters = 0, batch_size = 0;
  Preprocessing preprocessing;
  std::vector<std::string> class_names;
  History history;  // stored in history.csv, not in the JSON
  Evaluation test;  // accuracy, loss, confusion matrix and predictions on the test set
  double train_seconds = 0, images_per_second = 0;
  // The best-validation checkpoint (best.tnck): its epoch (0: none, e.g. no validation set),
  // validation accuracy and test accuracy.
  int best_epoch = 0;
  double best_validation_accuracy = 0, best_test_accuracy = 0;
};

// ensures: every field of `r` but the history, as a JSON object (fields in a fixed order).
inline nlohmann::ordered_json to_json(const CifarJobResult& r) {
  using Kind = Preprocessing::Kind;
  const Kind kind = r.preprocessing.kind;
  std::vector<std::int64_t> input_shape;
  for (int i = 0; i < r.input_shape.rank(); ++i) input_shape.push_back(r.input_shape[i]);
  nlohmann::ordered_json j = {
      {"name", r.name},
      {"approach", r.approach},
      {"recipe", r.recipe},
      {"recipe_fixes", r.recipe_fixes},
      {"architecture", r.architecture},
      {"device", r.device},
      {"parameters", r.parameters},
      {"epochs", r.history.epochs.size()},
      {"batch_size", r.batch_size},
      {"input_size", r.input_size},
      {"input_shape", input_shape},
      {"test_accuracy", r.test.accuracy},
      {"test_loss", r.test.loss},
      {"train_seconds", r.train_seconds},
      {"images_per_second", r.images_per_second},
      {"class_names", r.class_names},
      {"per_class_accuracy", r.test.confusion.per_class_accuracy()},
      {"confusion", r.test.confusion.counts()},
      {"predictions", r.test.predictions},
      {"preprocessing", kind == Kind::caffe ? "caffe" : kind == Kind::standardize ? "standardize" : "unit"}};
  if (kind == Kind::standardize) {
    j["channel_mean"] = r.preprocessing.stats.mean;
    j["channel_stddev"] = r.preprocessing.stats.stddev;
  }
  if (r.best_epoch > 0)
    j["best_checkpoint"] = {{"epoch", r.best_epoch},
                            {"validation_accuracy", r.best_validation_accuracy},
                            {"test_accuracy", r.best_test_accuracy}};
  return j;
}

// requires: `j` written by to_json (runs before the "recipe" and "device" fields: notebook, "").
// ensures: the result it holds (history empty); an Error naming `source` and the field at fault.
inline CifarJobResult run_result_from_json(const nlohmann::json& j, const std::string& source) {
  CifarJobResult r;
  try {
    r.name = j.at("name").get<std::string>();
    r.approach = j.at("approach").get<std::string>();
    r.recipe = j.value("recipe", std::string("notebook"));
    r.recipe_fixes = j.value("recipe_fixes", std::vector<std::string>{});
    r.architecture = j.at("architecture").get<std::string>();
    r.device = j.value("device", std::string());
    r.parameters = j.at("parameters").get<std::int64_t>();
    r.batch_size = j.at("batch_size").get<std::int64_t>();
    r.input_size = j.at("input_size").get<std::int64_t>();
    r.input_shape = Shape(j.at("input_shape").get<std::vector<std::int64_t>>());
    r.test.accuracy = j.at("test_accuracy").get<double>();
    r.test.loss = j.at("test_loss").get<double>();
    r.train_seconds = j.at("train_seconds").get<double>();
    r.images_per_second = j.at("images_per_second").get<double>();
    r.class_names = j.at("class_names").get<std::vector<std::string>>();
    r.test.predictions = j.at("predictions").get<std::vector<int>>();
    const std::string kind = j.at("preprocessing").get<std::string>();
    if (kind == "caffe") r.preprocessing = Preprocessing::caffe();
    else if (kind == "standardize")
      r.preprocessing = Preprocessing::standardize(
          {j.at("channel_mean").get<std::vector<double>>(), j.at("channel_stddev").get<std::vector<double>>()});
    else check(kind == "unit", "preprocessing '", kind, "' is not caffe, standardize or unit");
    if (j.contains("best_checkpoint")) {
      const auto& best = j.at("best_checkpoint");
      r.best_epoch = best.at("epoch").get<int>();
      r.best_validation_accuracy = best.at("validation_accuracy").get<double>();
      r.best_test_accuracy = best.at("test_accuracy").get<double>();
    }
    const auto counts = j.at("confusion").get<std::vector<std::int64_t>>();
    const int classes = static_cast<int>(r.class_names.size());
    check(classes >= 1 && counts.size() == r.class_names.size() * r.class_names.size(), "confusion has ",
          counts.size(), " cells for ", classes, " classes");
    r.test.confusion = ConfusionMatrix(classes);
    for (int t = 0; t < classes; ++t)
      for (int p = 0; p < classes; ++p) r.test.confusion.add(t, p, counts[t * classes + p]);
  } catch (const nlohmann::json::exception& e) {
    fail(source, ": ", e.what());
  } catch (const Error& e) {
    fail(source, ": ", e.what());
  }
  return r;
}

// ensures: `path` holds to_json(r), written atomically.
inline void write_run_result(const std::string& path, const CifarJobResult& r) {
  write_file_atomically(path, [&](std::ostream& out) { out << to_json(r).dump(2) << '\n'; });
}

// requires: `dir` holds metrics.json and history.csv of a finished run.
// ensures: the run's result; an Error naming the file and field at fault.
inline CifarJobResult read_run_result(const std::string& dir) {
  const std::string path = dir + "/metrics.json";
  std::ifstream in(path);
  check(in.good(), "cannot read '", path, "' (is this a finished run folder?)");
  nlohmann::json j;
  try {
    in >> j;
  } catch (const nlohmann::json::exception& e) {
    fail(path, ": ", e.what());
  }
  CifarJobResult r = run_result_from_json(j, path);
  r.history = History::read_csv(dir + "/history.csv");
  return r;
}

}  // namespace tinynet_examples
