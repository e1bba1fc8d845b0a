// examples/cifar_compare/report/observations.hpp: the comparison report's findings, computed from the numbers.
//
// summarize_run() derives per-model figures from a ModelRun; comparison_observations() turns
// them into plain-text sentences (no markup) for report.md and report.html:
//   - the test-accuracy gap between the best model and each other one (and the training-time ratio),
//   - overfitting: final-epoch train minus validation accuracy, per model,
//   - training seconds spent per point (1%) of test accuracy,
//   - the epoch with the best validation accuracy, and whether later epochs improved on it.
#pragma once

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "tinynet/core/error.hpp"
#include "cifar_compare/report/model_run.hpp"
#include "cifar_compare/report/text_format.hpp"

namespace tinynet_examples {

using namespace tinynet;

struct RunSummary {
  std::string name;
  int epochs = 0;
  double final_train_accuracy = std::numeric_limits<double>::quiet_NaN();
  double final_val_accuracy = std::numeric_limits<double>::quiet_NaN();
  double overfitting_gap = std::numeric_limits<double>::quiet_NaN();  // final train - val accuracy (fraction)
  int best_epoch = 0;                                                 // 0: no finite validation accuracy
  double best_val_accuracy = std::numeric_limits<double>::quiet_NaN();
  double seconds_per_accuracy_point = std::numeric_limits<double>::quiet_NaN();  // train s / (test acc * 100)
};

// Thresholds (in accuracy points) for calling a train-validation gap overfitting.
constexpr double mild_overfitting_points = 2, clear_overfitting_points = 5;

// ensures: the figures of `run`; NaN/0 where the history has nothing to give.
inline RunSummary summarize_run(const ModelRun& run) {
  RunSummary s;
  s.name = run.name;
  const auto& epochs = run.history.epochs;
  s.epochs = static_cast<int>(epochs.size());
  if (!epochs.empty()) {
    s.final_train_accuracy = epochs.back().train_accuracy;
    s.final_val_accuracy = epochs.back().val_accuracy;
    s.overfitting_gap = s.final_train_accuracy - s.final_val_accuracy;
  }
  for (const auto& e : epochs)
    if (std::isfinite(e.val_accuracy) && (s.best_epoch == 0 || e.val_accuracy > s.best_val_accuracy))
      s.best_epoch = e.epoch, s.best_val_accuracy = e.val_accuracy;
  if (run.test.accuracy > 0) s.seconds_per_accuracy_point = run.train_seconds / (run.test.accuracy * 100);
  return s;
}

// ensures: the index of the run with the highest test accuracy (the first on ties).
inline std::size_t best_run_index(const std::vector<ModelRun>& runs) {
  check(!runs.empty(), "best_run_index: no runs");
  std::size_t best = 0;
  for (std::size_t i = 1; i < runs.size(); ++i)
    if (runs[i].test.accuracy > runs[best].test.accuracy) best = i;
  return best;
}

// requires: at least one run. ensures: one sentence per finding, in the order listed above.
inline std::vector<std::string> comparison_observations(const std::vector<ModelRun>& runs) {
  check(!runs.empty(), "comparison_observations: no runs");
  std::vector<std::string> out;
  const std::size_t best = best_run_index(runs);
  const ModelRun& leader = runs[best];
  for (std::size_t i = 0; i < runs.size(); ++i) {
    if (i == best) continue;
    const ModelRun& other = runs[i];
    std::string sentence = leader.name + " reaches " + format_percent(leader.test.accuracy) + " test accuracy, " +
                           format_fixed((leader.test.accuracy - other.test.accuracy) * 100, 2) + " points above " +
                           other.name + " (" + format_percent(other.test.accuracy) + ")";
    if (other.train_seconds > 0)
      sentence += ", with " + format_fixed(leader.train_seconds / other.train_seconds, 2) + "x its training time (" +
                  format_duration(leader.train_seconds) + " vs " + format_duration(other.train_seconds) + ")";
    out.push_back(sentence + ".");
  }
  if (runs.size() == 1) out.push_back("Only one model was trained, so there is no accuracy gap to report.");

  for (const auto& run : runs) {
    const RunSummary s = summarize_run(run);
    if (s.epochs == 0) {
      out.push_back(run.name + ": no training history was recorded.");
      continue;
    }
    const double gap_points = s.overfitting_gap * 100;
    const std::string verdict = !std::isfinite(gap_points)               ? "cannot be judged"
                                : gap_points >= clear_overfitting_points ? "clear overfitting"
                                : gap_points >= mild_overfitting_points  ? "mild overfitting"
                                                                         : "no clear overfitting";
    out.push_back(run.name + ": final train accuracy " + format_percent(s.final_train_accuracy) + " vs validation " +
                  format_percent(s.final_val_accuracy) + ", a gap of " + format_fixed(gap_points, 2) + " points (" +
                  verdict + ").");
  }
  for (const auto& run : runs) {
    const RunSummary s = summarize_run(run);
    out.push_back(run.name + ": " + format_fixed(s.seconds_per_accuracy_point, 2) +
                  " s of training per point of test accuracy (" + format_duration(run.train_seconds) + " for " +
                  format_percent(run.test.accuracy) + ").");
  }
  for (const auto& run : runs) {
    const RunSummary s = summarize_run(run);
    if (s.best_epoch == 0) continue;
    std::string sentence = run.name + ": best validation accuracy " + format_percent(s.best_val_accuracy) +
                           " at epoch " + std::to_string(s.best_epoch) + " of " +
                           std::to_string(run.history.epochs.back().epoch);
    if (s.best_epoch < run.history.epochs.back().epoch)
      sentence +=
          "; the final epoch reached " + format_percent(s.final_val_accuracy) + ", so later epochs did not improve it";
    out.push_back(sentence + ".");
  }
  return out;
}

}  // namespace tinynet_examples
