// tinynet/training/history.hpp: the per-epoch record of a training run (Keras' History).
//
// The trainer appends one EpochRecord per epoch. A History is saved as CSV (one row per
// epoch, numbers with round-trip precision, so read_csv() gives back exactly what was written;
// a resumed run reads it to continue) and as JSON ({"epochs": [{...}, ...]}, NaN as null).
// Both files are written atomically: readers see the previous file or the new one, never half.
#pragma once

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tinynet/core/error.hpp"
#include "tinynet/io/atomic_file.hpp"

namespace tinynet {

struct EpochRecord {
  int epoch = 0;                                                              // 1-based
  double train_loss = 0, train_accuracy = 0, val_loss = 0, val_accuracy = 0;  // accuracies in [0, 1]
  double learning_rate = 0;
  double seconds = 0;            // wall time of the epoch (training + validation)
  double images_per_second = 0;  // training throughput
  double data_wait_seconds = 0;  // time the training loop waited for input batches

  bool operator==(const EpochRecord& o) const {
    return epoch == o.epoch && train_loss == o.train_loss && train_accuracy == o.train_accuracy &&
           val_loss == o.val_loss && val_accuracy == o.val_accuracy && learning_rate == o.learning_rate &&
           seconds == o.seconds && images_per_second == o.images_per_second && data_wait_seconds == o.data_wait_seconds;
  }
  bool operator!=(const EpochRecord& o) const { return !(*this == o); }
};

struct History {
  std::vector<EpochRecord> epochs;

  // The CSV header, in field order.
  static constexpr const char* csv_header =
      "epoch,train_loss,train_accuracy,val_loss,val_accuracy,learning_rate,seconds,images_per_second,"
      "data_wait_seconds";

  // ensures: `path` holds the CSV header and one row per epoch (NaN as "nan", infinities as
  // "inf"/"-inf"), written atomically; an Error naming the path when it cannot be written.
  void write_csv(const std::string& path) const {
    write_file_atomically(path, [&](std::ostream& out) {
      out << csv_header << '\n';
      for (const auto& e : epochs) {
        out << e.epoch;
        for (double v : numeric_fields(e)) out << ',' << csv_number(v);
        out << '\n';
      }
    });
  }

  // ensures: `path` holds to_json() (2-space indent), written atomically.
  void write_json(const std::string& path) const {
    write_file_atomically(path, [&](std::ostream& out) { out << to_json().dump(2) << '\n'; });
  }
  // ensures: {"epochs": [{"epoch": 1, "train_loss": ..., ...}, ...]}, fields in CSV order
  // (non-finite numbers are written as null).
  nlohmann::ordered_json to_json() const {
    nlohmann::ordered_json rows = nlohmann::ordered_json::array();
    for (const auto& e : epochs) {
      nlohmann::ordered_json row;
      row["epoch"] = e.epoch;
      const auto values = numeric_fields(e);
      for (std::size_t i = 0; i < values.size(); ++i) row[field_names()[i + 1]] = values[i];
      rows.push_back(std::move(row));
    }
    return {{"epochs", std::move(rows)}};
  }

  // requires: `path` is a file write_csv() wrote (a trailing "\r" per line is accepted).
  // ensures: the history it holds; an Error naming the file and line on a missing file, a wrong
  // header, a wrong field count, a field that is not a number, or epochs that do not increase.
  static History read_csv(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    check(in.good(), "History::read_csv: cannot open '", path, "'");
    History history;
    std::string line;
    int line_number = 0;
    while (std::getline(in, line)) {
      ++line_number;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const std::string where = "History::read_csv: " + path + ":" + std::to_string(line_number) + ": ";
      if (line_number == 1) {
        check(line == csv_header, where, "expected the header '", csv_header, "', found '", line, "'");
        continue;
      }
      if (line.empty()) continue;
      history.epochs.push_back(parse_row(line, where));
      const auto& rows = history.epochs;
      check(rows.size() < 2 || rows.back().epoch > rows[rows.size() - 2].epoch, where, "epoch ", rows.back().epoch,
            " does not follow epoch ", rows[rows.size() - 2].epoch);
    }
    check(line_number > 0, "History::read_csv: '", path, "' is empty (expected the header '", csv_header, "')");
    return history;
  }

 private:
  static constexpr int field_count = 9;

  static const std::vector<std::string>& field_names() {
    static const std::vector<std::string> names = [] {
      std::vector<std::string> out;
      std::istringstream header(csv_header);
      for (std::string name; std::getline(header, name, ',');) out.push_back(name);
      return out;
    }();
    return names;
  }
  // The fields after `epoch`, in CSV order.
  static std::vector<double> numeric_fields(const EpochRecord& e) {
    return {e.train_loss,    e.train_accuracy, e.val_loss,          e.val_accuracy,
            e.learning_rate, e.seconds,        e.images_per_second, e.data_wait_seconds};
  }
  static std::string csv_number(double v) {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    char text[32];  // the shortest text that reads back as exactly v
    return std::string(text, std::to_chars(text, text + sizeof text, v).ptr);
  }
  static EpochRecord parse_row(const std::string& line, const std::string& where) {
    std::vector<std::string> cells;
    std::istringstream row(line);
    for (std::string cell; std::getline(row, cell, ',');) cells.push_back(cell);
    if (!line.empty() && line.back() == ',') cells.emplace_back();
    check(static_cast<int>(cells.size()) == field_count, where, "expected ", field_count,
          " comma-separated fields, found ", cells.size(), " in '", line, "'");
    std::vector<double> values;
    for (int i = 0; i < field_count; ++i) {
      const char* begin = cells[i].c_str();
      char* end = nullptr;
      const double v = std::strtod(begin, &end);
      check(!cells[i].empty() && end == begin + cells[i].size(), where, "field '", field_names()[i], "' = '", cells[i],
            "' is not a number");
      values.push_back(v);
    }
    check(values[0] >= 1 && values[0] <= 1e9 && values[0] == std::floor(values[0]), where, "epoch '", cells[0],
          "' is not a positive integer");
    return EpochRecord{static_cast<int>(values[0]),
                       values[1],
                       values[2],
                       values[3],
                       values[4],
                       values[5],
                       values[6],
                       values[7],
                       values[8]};
  }
};

}  // namespace tinynet
