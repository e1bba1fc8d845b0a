// tinynet/training/metrics.hpp: ConfusionMatrix, exact classification counts.
//
// counts()[t * K + p] is the number of samples of true class t predicted as class p
// (rows: true class, columns: prediction). Accuracy is the diagonal over the total;
// per-class accuracy is each row's diagonal over the row (the recall of that class).
#pragma once

#include <cstdint>
#include <limits>
#include <ostream>
#include <string>
#include <vector>

#include "tinynet/core/error.hpp"
#include "tinynet/io/atomic_file.hpp"

namespace tinynet {

class ConfusionMatrix {
 public:
  ConfusionMatrix() = default;
  // requires: num_classes >= 1. ensures: all counts zero.
  explicit ConfusionMatrix(int num_classes) : num_classes_(num_classes) {
    check(num_classes >= 1, "ConfusionMatrix: need at least one class, got ", num_classes);
    counts_.assign(static_cast<std::size_t>(num_classes) * static_cast<std::size_t>(num_classes), 0);
  }

  int num_classes() const { return num_classes_; }

  // requires: both labels in [0, num_classes()); times >= 0. ensures: count(true_label,
  // predicted) grows by `times`.
  void add(int true_label, int predicted, std::int64_t times = 1) {
    check(in_range(true_label) && in_range(predicted), "ConfusionMatrix::add(", true_label, ", ", predicted,
          "): labels must lie in [0,", num_classes_, ")");
    counts_[index(true_label, predicted)] += times;
  }

  // requires: both labels in range. ensures: samples of class true_label predicted as `predicted`.
  std::int64_t count(int true_label, int predicted) const {
    check(in_range(true_label) && in_range(predicted), "ConfusionMatrix::count(", true_label, ", ", predicted,
          "): labels must lie in [0,", num_classes_, ")");
    return counts_[index(true_label, predicted)];
  }
  // ensures: the K*K counts, row-major, rows = true class.
  const std::vector<std::int64_t>& counts() const { return counts_; }

  std::int64_t total() const {
    std::int64_t n = 0;
    for (auto c : counts_) n += c;
    return n;
  }
  std::int64_t correct() const {
    std::int64_t n = 0;
    for (int k = 0; k < num_classes_; ++k) n += counts_[index(k, k)];
    return n;
  }
  // ensures: samples whose true class is `true_label`.
  std::int64_t row_total(int true_label) const {
    check(in_range(true_label), "ConfusionMatrix::row_total(", true_label, "): label outside [0,", num_classes_, ")");
    std::int64_t n = 0;
    for (int p = 0; p < num_classes_; ++p) n += counts_[index(true_label, p)];
    return n;
  }

  // requires: at least one sample added. ensures: correct() / total().
  double accuracy() const {
    const std::int64_t n = total();
    check(n > 0, "ConfusionMatrix::accuracy: no samples recorded (", num_classes_, " classes)");
    return static_cast<double>(correct()) / static_cast<double>(n);
  }
  // ensures: K entries, entry k = count(k, k) / row_total(k), NaN for a class with no samples.
  std::vector<double> per_class_accuracy() const {
    std::vector<double> out(static_cast<std::size_t>(num_classes_));
    for (int k = 0; k < num_classes_; ++k) {
      const std::int64_t n = row_total(k);
      out[k] = n > 0 ? static_cast<double>(counts_[index(k, k)]) / static_cast<double>(n)
                     : std::numeric_limits<double>::quiet_NaN();
    }
    return out;
  }

  // requires: class_names empty (classes are then named by index) or K names without ',', '"' or newlines.
  // ensures: `path` holds a header "true\predicted,<name>,..." and one row per true class, written atomically.
  void write_csv(const std::string& path, const std::vector<std::string>& class_names = {}) const {
    check(class_names.empty() || static_cast<int>(class_names.size()) == num_classes_, "ConfusionMatrix::write_csv(",
          path, "): ", class_names.size(), " class names for ", num_classes_, " classes");
    for (const auto& name : class_names)
      check(name.find_first_of(",\"\r\n") == std::string::npos, "ConfusionMatrix::write_csv(", path, "): class name '",
            name, "' contains a CSV delimiter");
    auto name_of = [&](int k) { return class_names.empty() ? std::to_string(k) : class_names[k]; };
    write_file_atomically(path, [&](std::ostream& out) {
      out << "true\\predicted";
      for (int p = 0; p < num_classes_; ++p) out << ',' << name_of(p);
      out << '\n';
      for (int t = 0; t < num_classes_; ++t) {
        out << name_of(t);
        for (int p = 0; p < num_classes_; ++p) out << ',' << counts_[index(t, p)];
        out << '\n';
      }
    });
  }

 private:
  bool in_range(int label) const { return label >= 0 && label < num_classes_; }
  std::size_t index(int t, int p) const {
    return static_cast<std::size_t>(t) * static_cast<std::size_t>(num_classes_) + static_cast<std::size_t>(p);
  }

  int num_classes_ = 0;
  std::vector<std::int64_t> counts_;
};

}  // namespace tinynet
