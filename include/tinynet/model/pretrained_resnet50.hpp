// tinynet/model/pretrained_resnet50.hpp: load ImageNet ResNet50 weights from any supported file.
//
// load_pretrained_resnet50(model, path) accepts
//   a tinynet checkpoint (*.tnck, e.g. written by convert_resnet50_weights / resnet50_convert):
//     loaded with strict name and shape checks; the BatchNorm epsilon is taken from the
//     checkpoint's metadata key "resnet50/bn_epsilon" when present;
//   anything read_weight_file reads (Keras .h5/.hdf5, a TF.js layers model folder or model.json):
//     mapped with load_resnet50_weights (model/resnet50_weights.hpp).
// convert_resnet50_weights(from, to) turns a Keras / TF.js file into such a checkpoint.
#pragma once

#include <cstdlib>
#include <iomanip>
#include <set>
#include <sstream>
#include <string>

#include "tinynet/core/error.hpp"
#include "tinynet/io/checkpoint.hpp"
#include "tinynet/io/read_weight_file.hpp"
#include "tinynet/model/resnet50.hpp"
#include "tinynet/model/resnet50_weights.hpp"

namespace tinynet {

// Checkpoint metadata written by convert_resnet50_weights.
constexpr const char* resnet50_epsilon_key = "resnet50/bn_epsilon";  // e.g. "0.001"
constexpr const char* resnet50_scheme_key = "resnet50/scheme";       // "legacy Keras" or "tf.keras"
constexpr const char* resnet50_source_key = "resnet50/source";       // the converted file's path

// requires: `resnet50` made by make_resnet50 and built; `path` a .tnck checkpoint of such a
// model, or a file read_weight_file accepts.
// ensures: every parameter of `resnet50` loaded from `path` (and the BatchNorm epsilon set, see
// the header comment); returns what was loaded. An Error naming the file and the layer on a
// missing, unexpected or mis-shaped parameter.
template <class T>
ResNet50WeightReport load_pretrained_resnet50(Sequential<T>& resnet50, const std::string& path) {
  if (lower_case_extension(path) != ".tnck") return load_resnet50_weights(resnet50, read_weight_file(path));

  CheckpointLoadOptions options;
  options.load_optimizer = false;
  options.strict = true;
  const CheckpointExtras extras = load_checkpoint<T>(path, resnet50, nullptr, options);
  ResNet50WeightReport report;
  report.scheme = "tinynet checkpoint";
  std::set<std::string> layers;
  for (const auto& e : resnet50.parameters().entries()) layers.insert(e.name.substr(0, e.name.find_last_of('/')));
  report.layers_loaded = static_cast<int>(layers.size());
  report.tensors_loaded = static_cast<std::int64_t>(resnet50.parameters().entries().size());
  report.values_loaded = resnet50.parameters().size();
  for (const auto& kv : extras.metadata) {
    if (kv.first == resnet50_scheme_key) report.scheme += " (from " + kv.second + ")";
    if (kv.first != resnet50_epsilon_key) continue;
    char* end = nullptr;
    report.bn_epsilon = std::strtod(kv.second.c_str(), &end);
    check(end != kv.second.c_str() && *end == '\0' && report.bn_epsilon > 0, path, ": metadata ", kv.first, " = '",
          kv.second, "' is not a positive number");
    set_batch_norm_epsilon<T>(resnet50, report.bn_epsilon);
  }
  if (report.bn_epsilon == 0)  // no epsilon metadata: the BatchNorms keep the epsilon they were made with
    if (const auto* bn = dynamic_cast<const BatchNorm<T>*>(&resnet50.layer("bn_conv1")))
      report.bn_epsilon = bn->epsilon();
  return report;
}

// requires: `from` a Keras ResNet50 weights file or TF.js model (see read_weight_file); `to` writable.
// ensures: `to` is a tinynet checkpoint (written atomically) of make_resnet50's parameters holding
// those weights, with the metadata keys above; returns what was loaded from `from`.
inline ResNet50WeightReport convert_resnet50_weights(const std::string& from, const std::string& to) {
  auto model = make_resnet50<float>();
  model->build_once(Shape{3, 32, 32});  // parameter shapes do not depend on the input size
  const ResNet50WeightReport report = load_resnet50_weights(*model, read_weight_file(from));
  std::ostringstream epsilon;
  epsilon << std::setprecision(17) << report.bn_epsilon;
  CheckpointExtras extras;
  extras.metadata = {{resnet50_epsilon_key, epsilon.str()}, {resnet50_scheme_key, report.scheme},
                     {resnet50_source_key, from}};
  save_checkpoint<float>(to, *model, nullptr, extras);
  return report;
}

}  // namespace tinynet
