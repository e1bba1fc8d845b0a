// tinynet/report/model_run.hpp: everything the comparison report needs to know about one trained model.
//
// The trainer fills a ModelRun per model (history, test metrics, confusion matrix, a few
// misclassified test images); report/comparison_report.hpp turns several into a report folder.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "tinynet/core/error.hpp"
#include "tinynet/report/image_grid.hpp"
#include "tinynet/training/history.hpp"
#include "tinynet/training/metrics.hpp"

namespace tinynet {

struct ModelRun {
  std::string name;          // short and unique, e.g. "scratch-cnn"; also names its files
  std::string approach;      // e.g. "trained from scratch", "fine-tuned from ImageNet"
  std::string architecture;  // e.g. "3x(Conv-Conv-Pool) + Dense", "ResNet50 + GAP + Dense(10)"
  std::string device;        // e.g. "cpu (16 threads)", "cuda (NVIDIA H200)"
  std::int64_t parameters = 0;
  History history;
  double test_accuracy = 0;  // in [0, 1]
  double test_loss = 0;
  double train_seconds = 0;      // total training wall time
  double images_per_second = 0;  // training throughput
  ConfusionMatrix confusion;     // on the test set
  std::vector<std::string> class_names;
  std::vector<MisclassifiedSample> mistakes;  // test images it got wrong (the report draws the first few)
};

// ensures: `name` reduced to a file-name-safe stem: letters, digits, '-' and '_' kept (letters
// lower-cased), every other character becomes '_'.
inline std::string file_stem(const std::string& name) {
  std::string stem;
  for (const char c : name) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    stem += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : keep ? c : '_';
  }
  return stem;
}

// ensures: an Error naming the run and the field when the run cannot be reported: an empty name,
// no classes or a class-name count that differs from the confusion matrix, an empty confusion
// matrix, a test accuracy outside [0, 1], or negative/non-finite counts and times.
inline void validate_model_run(const ModelRun& run) {
  const std::string where = "ModelRun '" + run.name + "': ";
  check(!run.name.empty(), "ModelRun: the name is empty (it names the report's files)");
  check(run.confusion.num_classes() >= 1 && static_cast<int>(run.class_names.size()) == run.confusion.num_classes(),
        where, run.class_names.size(), " class names for a ", run.confusion.num_classes(), "-class confusion matrix");
  check(run.confusion.total() > 0, where, "the confusion matrix holds no test samples");
  check(std::isfinite(run.test_accuracy) && run.test_accuracy >= 0 && run.test_accuracy <= 1, where, "test accuracy ",
        run.test_accuracy, " is outside [0, 1]");
  check(run.parameters >= 0, where, "negative parameter count ", run.parameters);
  check(std::isfinite(run.train_seconds) && run.train_seconds >= 0, where, "training time ", run.train_seconds,
        " s is not a non-negative number");
  check(std::isfinite(run.images_per_second) && run.images_per_second >= 0, where, "throughput ", run.images_per_second,
        " images/s is not a non-negative number");
}

}  // namespace tinynet
