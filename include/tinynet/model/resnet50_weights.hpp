// tinynet/model/resnet50_weights.hpp: Keras ImageNet ResNet50 weights -> make_resnet50's layers.
//
// Keras has published ResNet50 with two naming schemes; the file's scheme is detected:
//   ours (make_resnet50)      legacy Keras            tf.keras (keras.applications)
//   conv1                     conv1                   conv1_conv
//   bn_conv1                  bn_conv1                conv1_bn
//   res{S}{B}/conv_a, bn_a    res{S}{B}_branch2a,     conv{S}_block{n}_1_conv, _1_bn
//                             bn{S}{B}_branch2a
//   res{S}{B}/conv_b, bn_b    ..._branch2b            conv{S}_block{n}_2_conv, _2_bn
//   res{S}{B}/conv_c, bn_c    ..._branch2c            conv{S}_block{n}_3_conv, _3_bn
//   res{S}{B}/conv_shortcut,  ..._branch1             conv{S}_block{n}_0_conv, _0_bn
//     bn_shortcut
// with stage S = 2..5 and block letter B = a, b, ... (n = 1, 2, ...). Weights are matched by
// their base name (kernel, bias, gamma, beta, moving_mean, moving_variance); conv kernels are
// HWIO in the file and transposed to our OIHW. Keras' BatchNormalization epsilon is not in the
// weights: it is set from the scheme (legacy 1e-3, tf.keras 1.001e-5) on every BatchNorm.
// File layers that are not part of the convolutional base (fc1000, ...) are skipped and listed.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tinynet/core/error.hpp"
#include "tinynet/io/weight_file.hpp"
#include "tinynet/layers/batch_norm.hpp"
#include "tinynet/layers/composite.hpp"
#include "tinynet/layers/sequential.hpp"

namespace tinynet {

enum class ResNet50Naming { legacy_keras, tf_keras };

// ensures: "legacy Keras" or "tf.keras".
inline const char* naming_label(ResNet50Naming naming) {
  return naming == ResNet50Naming::legacy_keras ? "legacy Keras" : "tf.keras";
}

// ensures: the BatchNormalization epsilon of the Keras ResNet50 that uses `naming`.
inline double keras_bn_epsilon(ResNet50Naming naming) {
  return naming == ResNet50Naming::legacy_keras ? 1e-3 : 1.001e-5;
}

struct ResNet50WeightReport {
  std::string scheme;                       // "legacy Keras", "tf.keras" or "tinynet checkpoint"
  int layers_loaded = 0;                    // our layers that received weights (106 for ResNet50)
  std::int64_t tensors_loaded = 0;          // parameter tensors copied (318)
  std::int64_t values_loaded = 0;           // scalars copied (23,587,712)
  std::vector<std::string> skipped_layers;  // file layers that are not part of the base, in file order
  double bn_epsilon = 0;                    // the epsilon every BatchNorm now uses
};

// ensures: the naming scheme of `file`'s layers; an Error naming the file and listing its
// first layers when it looks like neither (or both) of Keras' ResNet50 schemes.
inline ResNet50Naming detect_resnet50_naming(const WeightFile& file) {
  const bool legacy = file.find("conv1") != nullptr || file.find("res2a_branch2a") != nullptr;
  const bool tf_keras = file.find("conv1_conv") != nullptr || file.find("conv2_block1_1_conv") != nullptr;
  if (legacy != tf_keras) return legacy ? ResNet50Naming::legacy_keras : ResNet50Naming::tf_keras;
  std::string first;
  for (std::size_t i = 0; i < file.layers.size() && i < 5; ++i) first += (i ? ", " : "") + file.layers[i].layer;
  fail("weight file '", file.source, "': ",
       legacy ? "has layers of both ResNet50 naming schemes" : "is not a Keras ResNet50",
       " (looked for 'conv1' / 'res2a_branch2a' (legacy Keras) and 'conv1_conv' / 'conv2_block1_1_conv' "
       "(tf.keras)); its first layers: ",
       first.empty() ? "none" : first);
}

// requires: `path` is a layer path inside make_resnet50's model ("conv1", "res3b/conv_a", ...).
// ensures: that layer's Keras name in `naming` ("res3b_branch2a" / "conv3_block2_1_conv"),
// or "" when the path is not a convolution or batch normalisation of ResNet50.
inline std::string keras_resnet50_layer_name(const std::string& path, ResNet50Naming naming) {
  const bool legacy = naming == ResNet50Naming::legacy_keras;
  if (path == "conv1") return legacy ? "conv1" : "conv1_conv";
  if (path == "bn_conv1") return legacy ? "bn_conv1" : "conv1_bn";
  // "res<stage digit><block letter>/<sub-layer>"
  if (path.size() < 7 || path.compare(0, 3, "res") != 0 || path[5] != '/') return "";
  const char stage = path[3], block = path[4];
  if (stage < '2' || stage > '5' || block < 'a' || block > 'z') return "";
  struct Branch {
    const char *conv, *bn, *legacy_suffix, *tf_index;
  };
  static const Branch branches[] = {{"conv_a", "bn_a", "branch2a", "1"},
                                    {"conv_b", "bn_b", "branch2b", "2"},
                                    {"conv_c", "bn_c", "branch2c", "3"},
                                    {"conv_shortcut", "bn_shortcut", "branch1", "0"}};
  const std::string sub = path.substr(6);
  for (const auto& b : branches) {
    const bool is_conv = sub == b.conv;
    if (!is_conv && sub != b.bn) continue;
    if (legacy) return std::string(is_conv ? "res" : "bn") + stage + block + "_" + b.legacy_suffix;
    return std::string("conv") + stage + "_block" + std::to_string(block - 'a' + 1) + "_" + b.tf_index +
           (is_conv ? "_conv" : "_bn");
  }
  return "";
}

namespace resnet50_detail {

// ensures: visit(layer, path) for every descendant of `root`, depth-first; path is the
// '/'-joined names below the root ("res2a/conv_a").
template <class T>
void for_each_descendant(Composite<T>& root, const std::string& prefix,
                         const std::function<void(Layer<T>&, const std::string&)>& visit) {
  for (std::size_t i = 0; i < root.size(); ++i) {
    Layer<T>& child = root.layer(i);
    const std::string path = prefix.empty() ? child.name() : prefix + "/" + child.name();
    visit(child, path);
    if (auto* composite = dynamic_cast<Composite<T>*>(&child)) for_each_descendant(*composite, path, visit);
  }
}

// One parameter tensor to fill from one file array.
template <class T>
struct PlannedCopy {
  const WeightArray* source;
  Tensor<T> destination;  // a view into the model's parameter buffer
  bool hwio_to_oihw;      // a conv kernel: transpose
};

// ensures: `source` (HWIO [kh,kw,in,out]) transposed into `destination` (OIHW [out,in,kh,kw]).
template <class T>
void copy_hwio_to_oihw(const std::vector<float>& source, Tensor<T>& destination) {
  const std::int64_t out = destination.dim(0), in = destination.dim(1), kh = destination.dim(2),
                     kw = destination.dim(3);
  T* dst = destination.data();
  for (std::int64_t o = 0; o < out; ++o)
    for (std::int64_t i = 0; i < in; ++i)
      for (std::int64_t h = 0; h < kh; ++h)
        for (std::int64_t w = 0; w < kw; ++w)
          *dst++ = static_cast<T>(source[static_cast<std::size_t>(((h * kw + w) * in + i) * out + o)]);
}

// ensures: one PlannedCopy per parameter of `layer` appended to `plan`, after checking that
// the file layer has exactly those weights with the matching shapes (Errors name both layers).
template <class T>
void plan_layer(const LayerWeights& source, const Layer<T>& layer, const std::string& where, const std::string& file,
                std::vector<PlannedCopy<T>>& plan) {
  const std::string label = "load_resnet50_weights: weight file '" + file + "', Keras layer '" + source.layer +
                            "' (for " + where + ")";
  const auto& params = layer.parameters();
  std::string expected_names;
  for (const auto& e : params.entries()) expected_names += (expected_names.empty() ? "" : ", ") + e.name;
  for (const auto& w : source.weights) {
    const bool known = std::any_of(params.entries().begin(), params.entries().end(),
                                   [&](const auto& e) { return e.name == w.base_name(); });
    check(known, label, ": unexpected weight '", w.name, "' (", layer.type(), " takes ", expected_names, ")");
  }
  for (std::size_t i = 0; i < params.entries().size(); ++i) {
    const auto& entry = params.entries()[i];
    const WeightArray* w = source.find(entry.name);
    check(w != nullptr, label, ": no weight '", entry.name, "' (", layer.type(), " takes ", expected_names,
          "; the file has ", source.weights.size(), " weight(s))");
    const bool kernel = entry.shape.rank() == 4;
    std::vector<std::int64_t> expected;
    for (int d = 0; d < entry.shape.rank(); ++d) expected.push_back(entry.shape[d]);
    if (kernel) expected = {entry.shape[2], entry.shape[3], entry.shape[1], entry.shape[0]};  // OIHW -> HWIO
    check(w->shape == expected, label, ": weight '", w->name, "' has shape ", shape_string(w->shape), ", ", where,
          " needs ", shape_string(expected), kernel ? " (HWIO, for our OIHW " + entry.shape.str() + ")" : "");
    std::int64_t count = 1;
    for (const auto d : w->shape) count *= d;
    check(static_cast<std::int64_t>(w->data.size()) == count, label, ": weight '", w->name, "' ",
          shape_string(w->shape), " holds ", w->data.size(), " values");
    plan.push_back({w, params.value(static_cast<int>(i)), kernel});
  }
}

}  // namespace resnet50_detail

// requires: `epsilon` > 0. ensures: every BatchNorm inside `model` uses it.
template <class T>
void set_batch_norm_epsilon(Composite<T>& model, double epsilon) {
  resnet50_detail::for_each_descendant<T>(model, "", [&](Layer<T>& layer, const std::string&) {
    if (auto* bn = dynamic_cast<BatchNorm<T>*>(&layer)) bn->set_epsilon(epsilon);
  });
}

// requires: `resnet50` made by make_resnet50 and built (any input size).
// ensures: every convolution and batch normalisation of `resnet50` holds the file's weights
// (kernels transposed HWIO -> OIHW), every BatchNorm the scheme's epsilon; returns what was
// loaded and which file layers were skipped. Nothing is changed when an Error is thrown: a
// missing layer or weight, an unexpected weight or a shape mismatch names the Keras layer and
// our layer path (e.g. "resnet50/res3a/conv_b").
template <class T>
ResNet50WeightReport load_resnet50_weights(Sequential<T>& resnet50, const WeightFile& file) {
  check(resnet50.is_built(), "load_resnet50_weights: ", resnet50.type(), " '", resnet50.name(),
        "' is not built (call build_once or setup with the input shape first)");
  const ResNet50Naming naming = detect_resnet50_naming(file);
  std::vector<resnet50_detail::PlannedCopy<T>> plan;
  std::vector<std::string> used;
  ResNet50WeightReport report;
  resnet50_detail::for_each_descendant<T>(resnet50, "", [&](Layer<T>& layer, const std::string& path) {
    if (layer.parameters().entries().empty() || dynamic_cast<Composite<T>*>(&layer) != nullptr) return;
    const std::string where = resnet50.name() + "/" + path;
    const std::string keras = keras_resnet50_layer_name(path, naming);
    check(!keras.empty(), "load_resnet50_weights: ", where, " (", layer.type(),
          ") has parameters but is not a layer of Keras' ResNet50 (is the model from make_resnet50?)");
    const LayerWeights* source = file.find(keras);
    check(source != nullptr, "load_resnet50_weights: weight file '", file.source, "' (", naming_label(naming),
          " names) has no layer '", keras, "' with weights, needed for ", where);
    resnet50_detail::plan_layer(*source, layer, where, file.source, plan);
    used.push_back(keras);
    ++report.layers_loaded;
  });

  for (auto& copy : plan) {
    if (copy.hwio_to_oihw)
      resnet50_detail::copy_hwio_to_oihw(copy.source->data, copy.destination);
    else
      std::transform(copy.source->data.begin(), copy.source->data.end(), copy.destination.begin(),
                     [](float v) { return static_cast<T>(v); });
    ++report.tensors_loaded;
    report.values_loaded += copy.destination.numel();
  }
  report.bn_epsilon = keras_bn_epsilon(naming);
  set_batch_norm_epsilon<T>(resnet50, report.bn_epsilon);
  report.scheme = naming_label(naming);
  for (const auto& l : file.layers)
    if (std::find(used.begin(), used.end(), l.layer) == used.end()) report.skipped_layers.push_back(l.layer);
  return report;
}

}  // namespace tinynet
