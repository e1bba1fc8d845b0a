// tinynet/io/weight_file.hpp: pretrained weights in a neutral in-memory form.
//
// The readers of foreign weight files (Keras HDF5: io/keras_hdf5.hpp, TF.js layers
// models: io/tfjs_layers_model.hpp) produce a WeightFile: the layers that have
// weights, in the file's layer order, each with its weight arrays in the order the
// file lists them (Keras order: kernel, bias; gamma, beta, moving_mean,
// moving_variance). Arrays keep the shape and element order the file stores
// (Keras: conv kernels HWIO, dense kernels [in, out]); values are float.
// Mapping them onto tinynet layers is the model's business, not this header's.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tinynet/core/error.hpp"

namespace tinynet {

struct WeightArray {
  std::string name;                 // as the file names it, e.g. "conv1/kernel:0" (HDF5), "conv1/kernel" (TF.js)
  std::vector<std::int64_t> shape;  // as stored; empty for a scalar
  std::vector<float> data;          // row-major, product(shape) values

  // ensures: the name without its scope and ":N" suffix: "conv1/kernel:0" -> "kernel".
  std::string base_name() const {
    std::string base = name.substr(name.find_last_of('/') + 1);  // npos + 1 == 0: whole name
    const auto colon = base.find_last_of(':');
    if (colon != std::string::npos && colon + 1 < base.size() &&
        base.find_first_not_of("0123456789", colon + 1) == std::string::npos)
      base.erase(colon);
    return base;
  }
};

// ensures: "[7,7,3,64]".
inline std::string shape_string(const std::vector<std::int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

struct LayerWeights {
  std::string layer;                 // the layer's name in the file, e.g. "res2a_branch2a"
  std::vector<WeightArray> weights;  // in file order

  // ensures: the weight whose name or base_name() is `name` ("kernel" finds "conv1/kernel:0"),
  // or nullptr when there is none.
  const WeightArray* find(const std::string& name) const {
    for (const auto& w : weights)
      if (w.name == name || w.base_name() == name) return &w;
    return nullptr;
  }
};

struct WeightFile {
  std::vector<LayerWeights> layers;  // layers that have weights, in file order
  std::string source;                // the path it was read from

  // ensures: the layer called `layer`, or nullptr when the file has none.
  const LayerWeights* find(const std::string& layer) const {
    for (const auto& l : layers)
      if (l.layer == layer) return &l;
    return nullptr;
  }
  // ensures: the layer called `layer`; an Error naming the file and the layer otherwise.
  const LayerWeights& at(const std::string& layer) const {
    const LayerWeights* l = find(layer);
    check(l != nullptr, "weight file '", source, "': no layer '", layer, "' with weights (", layers.size(),
          " layers have weights)");
    return *l;
  }
};

// ensures: true when tinynet was built with libhdf5 (TINYNET_WITH_HDF5), so that
// tinynet/io/keras_hdf5.hpp can be included and Keras .h5 files read.
constexpr bool hdf5_available() {
#ifdef TINYNET_WITH_HDF5
  return true;
#else
  return false;
#endif
}

}  // namespace tinynet
