// examples/cifar_compare/report/comparison_report.hpp: the report folder comparing trained models (e.g. a scratch
// CNN and a fine-tuned ResNet50 on CIFAR-10), as the Keras notebook's closing section does.
//
// write_comparison_report(runs, out_dir, note) writes into out_dir:
//   report.md                `note` (a paragraph under the title, e.g. that this is a quick look), the
//                            comparison table (approach, architecture, parameters, test accuracy,
//                            test loss, the best-validation checkpoint's test accuracy, training
//                            time, images/s, device), observations computed from
//                            the numbers (report/observations.hpp), per-class and per-epoch tables, figures
//   report.html              the same, self-contained: SVGs inlined, PNGs as base64 data: URIs
//   accuracy.svg, loss.svg   train (dashed) and validation (solid) curves per epoch, all models on shared axes
//   per_class.svg            per-class test accuracy, the models side by side
//   confusion_<model>.svg    each model's test confusion matrix
//   mistakes_<model>.png     a grid of each model's misclassified test images
//   results.json             every figure above as numbers (histories, confusion matrices, summaries)
// <model> is file_stem(run.name). Every file is written atomically.
#pragma once

#include <algorithm>
#include <filesystem>
#include <ostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tinynet/core/error.hpp"
#include "tinynet/io/atomic_file.hpp"
#include "cifar_compare/report/chart_axes.hpp"
#include "cifar_compare/report/confusion_heatmap.hpp"
#include "cifar_compare/report/image_grid.hpp"
#include "cifar_compare/report/model_run.hpp"
#include "cifar_compare/report/observations.hpp"
#include "cifar_compare/report/plots.hpp"
#include "cifar_compare/report/report_document.hpp"
#include "cifar_compare/report/rgb_image.hpp"
#include "cifar_compare/report/text_format.hpp"

namespace tinynet_examples {

using namespace tinynet;

namespace detail {

inline void write_report_file(const std::filesystem::path& path, const std::string& content) {
  write_file_atomically(path.string(), [&](std::ostream& out) {
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
  });
}

// One chart of a history metric for all runs: dashed train and solid validation series per run.
inline std::string history_chart(const std::vector<ModelRun>& runs, bool accuracy) {
  std::vector<LineSeries> series;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    LineSeries train{runs[i].name + " train", {}, {}, palette_colour(i), true};
    LineSeries val{runs[i].name + " validation", {}, {}, palette_colour(i), false};
    for (const auto& e : runs[i].history.epochs) {
      train.x.push_back(e.epoch);
      val.x.push_back(e.epoch);
      train.y.push_back(accuracy ? e.train_accuracy * 100 : e.train_loss);
      val.y.push_back(accuracy ? e.val_accuracy * 100 : e.val_loss);
    }
    series.push_back(std::move(train));
    series.push_back(std::move(val));
  }
  LineChartOptions options;
  options.title = accuracy ? "Accuracy per epoch" : "Loss per epoch";
  options.x_label = "epoch";
  options.y_label = accuracy ? "accuracy (%)" : "cross-entropy loss";
  options.y_suffix = accuracy ? "%" : "";
  return line_chart_svg(series, options);
}

// ensures: results.json's content: each run as its metrics.json (common/run_result.hpp) plus
// what the report adds (summary, history, mistakes, files), and the observations.
inline nlohmann::ordered_json results_json(const std::vector<ModelRun>& runs,
                                           const std::vector<std::string>& observations) {
  nlohmann::ordered_json models = nlohmann::ordered_json::array();
  for (const auto& run : runs) {
    const RunSummary s = summarize_run(run);
    const std::string stem = file_stem(run.name);
    nlohmann::ordered_json model = to_json(run);
    model["summary"] = {{"epochs", s.epochs},
                        {"final_train_accuracy", s.final_train_accuracy},
                        {"final_val_accuracy", s.final_val_accuracy},
                        {"overfitting_gap", s.overfitting_gap},
                        {"best_epoch", s.best_epoch},
                        {"best_val_accuracy", s.best_val_accuracy},
                        {"seconds_per_accuracy_point", s.seconds_per_accuracy_point}};
    model["history"] = run.history.to_json()["epochs"];
    model["mistakes"] = nlohmann::ordered_json::array();
    for (const auto& m : run.mistakes)
      model["mistakes"].push_back(
          {{"index", m.index}, {"true_label", m.true_label}, {"predicted_label", m.predicted_label}});
    model["files"] = {{"confusion", "confusion_" + stem + ".svg"}, {"mistakes", "mistakes_" + stem + ".png"}};
    models.push_back(std::move(model));
  }
  return {{"report", "tinynet model comparison"}, {"models", std::move(models)}, {"observations", observations}};
}

inline ReportTable history_table(const History& history) {
  ReportTable table{{"Epoch", "Train loss", "Train accuracy", "Val loss", "Val accuracy", "Learning rate", "Time",
                     "Images/s", "Data wait"},
                    {}};
  for (const auto& e : history.epochs)
    table.rows.push_back({std::to_string(e.epoch), format_fixed(e.train_loss, 4), format_percent(e.train_accuracy),
                          format_fixed(e.val_loss, 4), format_percent(e.val_accuracy), format_fixed(e.learning_rate, 6),
                          format_duration(e.seconds), format_fixed(e.images_per_second, 1),
                          format_duration(e.data_wait_seconds)});
  return table;
}

}  // namespace detail

// requires: at least one run, each valid (validate_model_run), with distinct file stems and the same
// class names. ensures: the files listed at the top of this header in out_dir (created if missing);
// an Error naming the run or file at fault otherwise.
inline void write_comparison_report(const std::vector<ModelRun>& runs, const std::string& out_dir,
                                    const std::string& note = "") {
  check(!runs.empty(), "write_comparison_report: no model runs to report");
  std::set<std::string> stems;
  for (const auto& run : runs) {
    validate_model_run(run);
    check(stems.insert(file_stem(run.name)).second, "write_comparison_report: two runs share the file name '",
          file_stem(run.name), "' (model names must differ in letters/digits)");
    check(run.class_names == runs[0].class_names, "write_comparison_report: runs '", runs[0].name, "' and '", run.name,
          "' have different class names");
  }
  // The image grids check every misclassified sample, so they are drawn before any file is written.
  const ImageGridOptions grid_options;
  std::vector<std::string> mistake_pngs;
  for (const auto& run : runs)
    mistake_pngs.push_back(encode_png(render_mistake_grid(run.mistakes, run.class_names, grid_options)));
  const std::filesystem::path dir(out_dir);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  check(!ec, "write_comparison_report: cannot create the report folder '", out_dir, "': ", ec.message());

  std::string title = "Model comparison:";
  for (std::size_t i = 0; i < runs.size(); ++i) title += (i ? " vs " : " ") + runs[i].name;
  ReportDocument doc(title);
  if (!note.empty()) doc.paragraph(note);

  ReportTable summary{{"Model", "Approach", "Architecture", "Parameters", "Test accuracy", "Test loss",
                       "Best-validation checkpoint", "Training time", "Images/s", "Device"},
                      {}};
  for (const auto& run : runs)
    summary.rows.push_back({run.name, run.approach, run.architecture + " (input " + run.input_shape.str() + ")",
                            format_thousands(run.parameters), format_percent(run.test.accuracy),
                            format_fixed(run.test.loss, 4),
                            run.best_epoch > 0 ? format_percent(run.best_test_accuracy) + " (epoch " +
                                                     std::to_string(run.best_epoch) + ")"
                                               : "-",
                            format_duration(run.train_seconds), format_fixed(run.images_per_second, 1), run.device});
  doc.heading("Summary");
  doc.table(summary);
  const std::vector<std::string> observations = comparison_observations(runs);
  doc.heading("Observations");
  doc.bullets(observations);

  const auto emit = [&](const std::string& file, const std::string& caption, const std::string& content) {
    detail::write_report_file(dir / file, content);
    doc.figure(file, caption, content);
  };
  doc.heading("Training curves");
  emit("accuracy.svg", "Train (dashed) and validation (solid) accuracy per epoch", detail::history_chart(runs, true));
  emit("loss.svg", "Train (dashed) and validation (solid) loss per epoch", detail::history_chart(runs, false));

  doc.heading("Per-class test accuracy");
  std::vector<BarSeries> bars;
  ReportTable per_class{{"Class"}, {}};
  for (std::size_t i = 0; i < runs.size(); ++i) {
    bars.push_back({runs[i].name, runs[i].test.confusion.per_class_accuracy(), palette_colour(i)});
    per_class.header.push_back(runs[i].name);
  }
  const auto& class_names = runs[0].class_names;
  for (std::size_t c = 0; c < class_names.size(); ++c) {
    per_class.rows.push_back({class_names[c]});
    for (auto& series : bars) {
      per_class.rows.back().push_back(format_percent(series.values[c]));
      series.values[c] *= 100;
    }
  }
  BarChartOptions bar_options;
  bar_options.title = "Per-class test accuracy";
  bar_options.value_label = "accuracy (%)";
  bar_options.value_suffix = "%";
  bar_options.value_max = 100;
  emit("per_class.svg", "Per-class test accuracy", horizontal_bar_chart_svg(class_names, bars, bar_options));
  doc.table(per_class);

  doc.heading("Confusion matrices (test set)");
  for (const auto& run : runs)
    emit("confusion_" + file_stem(run.name) + ".svg", "Confusion matrix of " + run.name,
         confusion_heatmap_svg(run.test.confusion, run.class_names, "Confusion matrix: " + run.name));

  doc.heading("Misclassified test images");
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const ModelRun& run = runs[i];
    const std::size_t shown = std::min(run.mistakes.size(), static_cast<std::size_t>(grid_options.max_images));
    emit("mistakes_" + file_stem(run.name) + ".png",
         run.name + ": " + std::to_string(shown) + " of " +
             std::to_string(run.test.confusion.total() - run.test.confusion.correct()) +
             " misclassified test images (true and predicted class below each)",
         mistake_pngs[i]);
  }

  doc.heading("Per-epoch history");
  for (const auto& run : runs) {
    doc.heading(run.name, 3);
    doc.table(detail::history_table(run.history));
  }

  detail::write_report_file(dir / "results.json", detail::results_json(runs, observations).dump(2) + "\n");
  detail::write_report_file(dir / "report.md", doc.markdown());
  detail::write_report_file(dir / "report.html", doc.html());
}

}  // namespace tinynet_examples
