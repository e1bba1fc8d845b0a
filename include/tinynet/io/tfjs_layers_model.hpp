// tinynet/io/tfjs_layers_model.hpp: read a TF.js layers model's weights into a WeightFile.
//
// A TF.js layers model is a model.json plus binary weight shards beside it.
// model.json's `weightsManifest` is a list of groups, each with `paths` (shard
// files, relative to model.json's folder) and `weights` ([{name, shape, dtype}]):
// the group's weights are stored back to back, little-endian, in that order, across
// the concatenation of its shards (a weight may straddle two shards). Supported
// dtypes: float32 and int32 (converted to float); quantized weights (a
// `quantization` entry) are rejected. Weights are grouped into layers by the first
// component of their name ("res2a_branch2a/kernel" -> layer "res2a_branch2a"),
// keeping manifest order within a layer. Layers are ordered as in
// `modelTopology` when it lists them (Keras model_config or a bare config), else
// in manifest order.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tinynet/core/error.hpp"
#include "tinynet/io/weight_file.hpp"

namespace tinynet {
namespace tfjs_detail {

using Json = nlohmann::json;

// ensures: object[key]; an Error naming the key when `object` is not an object or lacks it.
inline const Json& member(const Json& object, const std::string& key) {
  check(object.is_object(), "expected an object with '", key, "', got ", object.type_name());
  const auto it = object.find(key);
  check(it != object.end(), "no member '", key, "'");
  return *it;
}

// ensures: object[key] as a string; an Error naming the key when missing or not a string.
inline std::string string_member(const Json& object, const std::string& key) {
  const Json& value = member(object, key);
  check(value.is_string(), "'", key, "' is a ", value.type_name(), ", not a string");
  return value.get<std::string>();
}

// ensures: object[key] when it is an array; an Error naming the key otherwise.
inline const Json& array_member(const Json& object, const std::string& key) {
  const Json& value = member(object, key);
  check(value.is_array(), "'", key, "' is a ", value.type_name(), ", not an array");
  return value;
}

struct ManifestWeight {
  std::string name;
  std::vector<std::int64_t> shape;
  std::string dtype;       // "float32" or "int32"
  std::int64_t count = 1;  // product(shape)
};

struct ManifestGroup {
  std::vector<std::string> paths;  // shard files, resolved against model.json's folder
  std::vector<ManifestWeight> weights;
};

// ensures: the whole file as bytes; an Error naming `what` and the path when unreadable.
inline std::string read_whole_file(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  check(in.is_open(), what, ": cannot open '", path, "'");
  std::ostringstream bytes;
  bytes << in.rdbuf();
  check(!in.bad(), what, ": error while reading '", path, "'");
  return bytes.str();
}

inline ManifestWeight parse_manifest_weight(const Json& entry) {
  ManifestWeight w;
  w.name = string_member(entry, "name");
  check(!w.name.empty(), "empty weight name");
  check(!entry.contains("quantization"), "weight '", w.name,
        "' is quantized, which is not supported (export the model without quantization)");
  w.dtype = string_member(entry, "dtype");
  check(w.dtype == "float32" || w.dtype == "int32", "weight '", w.name, "' has dtype '", w.dtype,
        "' (supported: float32, int32)");
  for (const Json& dim : array_member(entry, "shape")) {
    check(dim.is_number_integer(), "weight '", w.name, "': shape entry ", dim.dump(), " is not an integer");
    const std::int64_t d = dim.get<std::int64_t>();
    check(d >= 0 && d <= (std::int64_t{1} << 40) && w.count <= (std::int64_t{1} << 40) / std::max<std::int64_t>(d, 1),
          "weight '", w.name, "' has an invalid or implausibly large shape");
    w.shape.push_back(d);
    w.count *= d;
  }
  return w;
}

// ensures: the manifest's groups; errors name the file and the manifest entry at fault.
inline std::vector<ManifestGroup> parse_manifest(const Json& model, const std::string& folder,
                                                 const std::string& label) {
  const auto manifest = model.find("weightsManifest");
  check(manifest != model.end() && manifest->is_array(), label, ": no 'weightsManifest' array");
  std::vector<ManifestGroup> groups;
  for (std::size_t g = 0; g < manifest->size(); ++g) {
    const Json& group_json = (*manifest)[g];
    ManifestGroup group;
    const Json* weights = nullptr;
    try {
      for (const Json& path : array_member(group_json, "paths")) {
        check(path.is_string(), "a path is a ", path.type_name(), ", not a string");
        group.paths.push_back(folder + path.get<std::string>());
      }
      weights = &array_member(group_json, "weights");
    } catch (const Error& e) {
      fail(label, ": weightsManifest[", g, "]: ", e.what());
    }
    for (std::size_t i = 0; i < weights->size(); ++i) {
      try {
        group.weights.push_back(parse_manifest_weight((*weights)[i]));
      } catch (const Error& e) {
        fail(label, ": weightsManifest[", g, "].weights[", i, "]: ", e.what());
      }
    }
    groups.push_back(std::move(group));
  }
  return groups;
}

// ensures: an Error naming the shard at fault unless the shards of weightsManifest[g] hold
// exactly the bytes its weights need; checked before anything is allocated for the weights.
inline void check_shard_sizes(const ManifestGroup& group, std::size_t g, const std::string& label) {
  namespace fs = std::filesystem;
  std::int64_t needed = 0;
  for (const auto& w : group.weights) {
    check(w.count <= (INT64_MAX - needed) / 4, label, ": weightsManifest[", g, "] needs more than 2^63 bytes");
    needed += w.count * 4;
  }
  std::vector<std::int64_t> sizes;
  std::int64_t total = 0;
  for (const auto& path : group.paths) {
    std::error_code ec;
    const auto status = fs::status(path, ec);
    check(fs::is_regular_file(status), label, ": cannot open weight shard '", path, "' (",
          !fs::exists(status) ? "missing" : fs::is_directory(status) ? "a directory" : "not a regular file", ")");
    sizes.push_back(static_cast<std::int64_t>(fs::file_size(path, ec)));
    check(!ec, label, ": cannot read the size of weight shard '", path, "' (", ec.message(), ")");
    total += sizes.back();
  }
  if (total == needed) return;
  // The converter writes shards of one size (4 MiB by default) and a shorter last one.
  for (std::size_t i = 1; i + 1 < sizes.size(); ++i)
    check(sizes[i] >= sizes[0], label, ": weight shard '", group.paths[i], "' is ", sizes[i],
          " bytes, shorter than the first shard (", sizes[0], " bytes); only the last shard may be shorter, so this "
          "one is truncated (the shards hold ", total, " bytes, the weights need ", needed, ")");
  std::string detail;
  if (total < needed) {
    std::int64_t end = 0;
    std::size_t w = 0;
    while ((end += group.weights[w].count * 4) <= total) ++w;
    detail = ": they end before weight '" + group.weights[w].name + "' " + shape_string(group.weights[w].shape) +
             " is complete (a shard is truncated or missing)";
  } else {
    detail = ": weight shard '" + group.paths.back() + "' holds more bytes than the manifest's weights need";
  }
  fail(label, ": the ", group.paths.size(), " weight shard(s) of weightsManifest[", g, "] hold ", total,
       " bytes but its ", group.weights.size(), " weights need ", needed, detail);
}

// Reads a weight group's shards as one byte stream, in order.
class ShardStream {
 public:
  ShardStream(const std::vector<std::string>& paths, const std::string& label) : paths_(paths), label_(label) {}

  // ensures: the next `n` bytes of the concatenated shards copied to `out`; an Error naming
  // `what` and the shards when they end first.
  void read(char* out, std::size_t n, const std::string& what) {
    while (n > 0) {
      if (!current_.is_open()) open_next(what);
      current_.read(out, static_cast<std::streamsize>(n));
      const auto got = static_cast<std::size_t>(current_.gcount());
      check(!current_.bad(), label_, ": error while reading weight shard '", paths_[next_ - 1], "'");
      out += got;
      n -= got;
      if (n > 0) current_.close();
    }
  }

  // ensures: an Error when the shards hold bytes beyond what was read.
  void expect_end() {
    while (true) {
      if (current_.is_open()) {
        check(current_.peek() == std::char_traits<char>::eof(), label_, ": weight shard '", paths_[next_ - 1],
              "' holds more bytes than the manifest's weights need");
        current_.close();
      }
      if (next_ == paths_.size()) return;
      open_next("the end of the weights");
    }
  }

 private:
  void open_next(const std::string& what) {
    check(next_ < paths_.size(), label_, ": the weight shards (", paths_.size(), " files) end before ", what);
    current_.clear();
    current_.open(paths_[next_], std::ios::binary);
    check(current_.is_open(), label_, ": cannot open weight shard '", paths_[next_], "'");
    ++next_;
  }

  const std::vector<std::string>& paths_;
  const std::string& label_;
  std::size_t next_ = 0;
  std::ifstream current_;
};

// ensures: the little-endian float32 / int32 values of `bytes` (4 per value) as floats.
inline void decode_values(const std::string& bytes, const std::string& dtype, std::vector<float>& out) {
  out.resize(bytes.size() / 4);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const auto* b = reinterpret_cast<const unsigned char*>(bytes.data()) + 4 * i;
    const std::uint32_t bits =
        std::uint32_t{b[0]} | std::uint32_t{b[1]} << 8 | std::uint32_t{b[2]} << 16 | std::uint32_t{b[3]} << 24;
    if (dtype == "int32") {
      std::int32_t v;
      std::memcpy(&v, &bits, 4);
      out[i] = static_cast<float>(v);
    } else {
      std::memcpy(&out[i], &bits, 4);
    }
  }
}

// ensures: the names of the layers modelTopology lists, in order; empty when it lists none.
inline std::vector<std::string> topology_layer_names(const Json& model) {
  // ensures: object[key], or nullptr when `object` is null, not an object or lacks the key.
  const auto find = [](const Json* object, const char* key) -> const Json* {
    if (object == nullptr || !object->is_object()) return nullptr;
    const auto it = object->find(key);
    return it == object->end() ? nullptr : &*it;
  };
  const Json* topology = find(&model, "modelTopology");
  if (const Json* keras = find(topology, "model_config"); keras != nullptr && keras->is_object()) topology = keras;
  const Json* config = find(topology, "config");
  if (config != nullptr && config->is_object()) config = find(config, "layers");
  if (config == nullptr || !config->is_array()) return {};
  std::vector<std::string> names;
  for (const Json& layer : *config) {
    const Json* layer_config = find(&layer, "config");
    const Json* name = layer_config != nullptr && layer_config->is_object() ? find(layer_config, "name")
                                                                             : find(&layer, "name");
    if (name != nullptr && name->is_string()) names.push_back(name->get<std::string>());
  }
  return names;
}

}  // namespace tfjs_detail

// requires: `model_json_path` is a TF.js layers model's model.json with its shards beside it.
// ensures: every manifest weight, read exactly, grouped into layers (see the header comment);
// names as in the manifest ("conv1/kernel"); source == model_json_path. An Error naming the
// file (model.json or the shard) and the entry at fault on bad JSON, a missing or short
// shard, or an unsupported dtype.
inline WeightFile read_tfjs_layers_model(const std::string& model_json_path) {
  const std::string label = "TF.js model '" + model_json_path + "'";
  tfjs_detail::Json model;
  try {
    model = tfjs_detail::Json::parse(tfjs_detail::read_whole_file(model_json_path, label));
  } catch (const tfjs_detail::Json::exception& e) {  // a syntax error, or a number beyond a double
    fail(model_json_path, ": invalid JSON (", e.what(), ")");
  }
  check(model.is_object(), label, ": the top level is not a JSON object");
  if (const auto format = model.find("format"); format != model.end())
    check(format->is_string() && format->get<std::string>() == "layers-model", label,
          ": format is not 'layers-model' (only TF.js layers models are supported)");
  const std::string folder = model_json_path.substr(0, model_json_path.find_last_of('/') + 1);

  WeightFile result;
  result.source = model_json_path;
  std::string bytes;
  const auto groups = tfjs_detail::parse_manifest(model, folder, label);
  for (std::size_t g = 0; g < groups.size(); ++g) {
    const auto& group = groups[g];
    tfjs_detail::check_shard_sizes(group, g, label);
    tfjs_detail::ShardStream shards(group.paths, label);
    for (const auto& w : group.weights) {
      WeightArray array{w.name, w.shape, {}};
      bytes.resize(static_cast<std::size_t>(w.count) * 4);
      shards.read(bytes.data(), bytes.size(), "weight '" + w.name + "' " + shape_string(w.shape) + " is complete");
      tfjs_detail::decode_values(bytes, w.dtype, array.data);
      const std::string layer = w.name.substr(0, w.name.find('/'));
      auto it = std::find_if(result.layers.begin(), result.layers.end(),
                             [&](const LayerWeights& l) { return l.layer == layer; });
      if (it == result.layers.end()) it = result.layers.insert(result.layers.end(), LayerWeights{layer, {}});
      it->weights.push_back(std::move(array));
    }
    shards.expect_end();
  }

  const auto order = tfjs_detail::topology_layer_names(model);
  const auto rank = [&](const LayerWeights& l) {
    return static_cast<std::size_t>(std::find(order.begin(), order.end(), l.layer) - order.begin());
  };
  std::stable_sort(result.layers.begin(), result.layers.end(),
                   [&](const LayerWeights& a, const LayerWeights& b) { return rank(a) < rank(b); });
  return result;
}

}  // namespace tinynet
