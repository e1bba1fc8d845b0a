// examples/cifar_compare/report/model_run.hpp: what the comparison report knows about one trained model.
//
// A ModelRun is a run's result (common/run_result.hpp) with a few misclassified test images;
// comparison_report.hpp turns several into a report folder.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "tinynet/core/error.hpp"
#include "cifar_compare/report/image_grid.hpp"
#include "common/run_result.hpp"

namespace tinynet_examples {

using namespace tinynet;

// A run as the report shows it: its result and some test images it got wrong.
struct ModelRun : CifarJobResult {
  std::vector<MisclassifiedSample> mistakes;  // see mistakes_across_classes
};

// requires: predictions and labels of equal length, labels in [0, classes), classes >= 1.
// ensures: the indices (ascending) of up to `limit` misclassified samples, at most
// max(1, limit / classes) per true class, so a grid shows mistakes of every class (a test set
// stored class by class would otherwise fill it with the first class alone).
inline std::vector<std::size_t> mistakes_across_classes(const std::vector<int>& predictions,
                                                        const std::vector<int>& labels, int classes,
                                                        std::size_t limit) {
  check(predictions.size() == labels.size() && classes >= 1, "mistakes_across_classes: ", predictions.size(),
        " predictions for ", labels.size(), " labels, ", classes, " classes");
  const std::size_t per_class = std::max<std::size_t>(1, limit / static_cast<std::size_t>(classes));
  std::vector<std::size_t> taken(static_cast<std::size_t>(classes), 0), picked;
  for (std::size_t i = 0; i < labels.size() && picked.size() < limit; ++i) {
    const int label = labels[i];
    check(label >= 0 && label < classes, "mistakes_across_classes: label ", label, " of sample ", i,
          " is outside [0, ", classes, ")");
    if (predictions[i] == label || taken[static_cast<std::size_t>(label)] >= per_class) continue;
    ++taken[static_cast<std::size_t>(label)];
    picked.push_back(i);
  }
  return picked;
}

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
  check(run.test.confusion.num_classes() >= 1 && static_cast<int>(run.class_names.size()) == run.test.confusion.num_classes(),
        where, run.class_names.size(), " class names for a ", run.test.confusion.num_classes(), "-class confusion matrix");
  check(run.test.confusion.total() > 0, where, "the confusion matrix holds no test samples");
  check(std::isfinite(run.test.accuracy) && run.test.accuracy >= 0 && run.test.accuracy <= 1, where, "test accuracy ",
        run.test.accuracy, " is outside [0, 1]");
  check(run.parameters >= 0, where, "negative parameter count ", run.parameters);
  check(std::isfinite(run.train_seconds) && run.train_seconds >= 0, where, "training time ", run.train_seconds,
        " s is not a non-negative number");
  check(std::isfinite(run.images_per_second) && run.images_per_second >= 0, where, "throughput ", run.images_per_second,
        " images/s is not a non-negative number");
}

}  // namespace tinynet_examples
