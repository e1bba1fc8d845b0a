// examples/common/onnx_run_export.hpp: a finished run folder's model as an ONNX file
// (tinynet_onnx export --run, cifar_compare --onnx). Needs a build with TINYNET_WITH_ONNX.
#pragma once

#include <memory>
#include <string>

#include "common/saved_run.hpp"
#include "tinynet/io/onnx_export.hpp"

namespace tinynet_examples {

// requires: `dir` a finished run folder (model.tnck, metrics.json); `to` writable.
// ensures: the run's model written to `to` as an ONNX inference graph with options' names; with
// `with_preprocessing` the run's preprocessing leads the graph (it then takes 0..255 pixels at the
// model's input size). Returns the run's job; the rebuilt model through `model` when given.
inline CifarJob export_run_to_onnx(const std::string& dir, const std::string& to, bool with_preprocessing,
                                   OnnxExportOptions options = {},
                                   std::unique_ptr<Sequential<float>>* model = nullptr) {
  std::unique_ptr<Sequential<float>> loaded;
  CifarJob job = load_saved_run(dir, &loaded).job;
  if (with_preprocessing) options.preprocessing = job.preprocessing;
  save_onnx<float>(to, *loaded, options);
  if (model) *model = std::move(loaded);
  return job;
}

}  // namespace tinynet_examples
