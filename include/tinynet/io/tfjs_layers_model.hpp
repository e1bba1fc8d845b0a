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

#include "tinynet/core/error.hpp"
#include "tinynet/io/json.hpp"
#include "tinynet/io/weight_file.hpp"

namespace tinynet {
namespace tfjs_detail {

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

inline ManifestWeight parse_manifest_weight(const json::Value& entry) {
  ManifestWeight w;
  w.name = entry.at("name").as_string();
  check(!w.name.empty(), "empty weight name");
  check(entry.find("quantization") == nullptr, "weight '", w.name,
        "' is quantized, which is not supported (export the model without quantization)");
  w.dtype = entry.at("dtype").as_string();
  check(w.dtype == "float32" || w.dtype == "int32", "weight '", w.name, "' has dtype '", w.dtype,
        "' (supported: float32, int32)");
  check(entry.at("shape").is(json::Type::array), "weight '", w.name, "': shape is not an array");
  for (const auto& dim : entry.at("shape").elements()) {
    const std::int64_t d = dim.as_int64();
    check(d >= 0 && d <= (std::int64_t{1} << 40) && w.count <= (std::int64_t{1} << 40) / std::max<std::int64_t>(d, 1),
          "weight '", w.name, "' has an invalid or implausibly large shape");
    w.shape.push_back(d);
    w.count *= d;
  }
  return w;
}

// ensures: the manifest's groups; errors name the file and the manifest entry at fault.
inline std::vector<ManifestGroup> parse_manifest(const json::Value& model, const std::string& folder,
                                                 const std::string& label) {
  const json::Value* manifest = model.find("weightsManifest");
  check(manifest != nullptr && manifest->is(json::Type::array), label, ": no 'weightsManifest' array");
  std::vector<ManifestGroup> groups;
  for (std::size_t g = 0; g < manifest->size(); ++g) {
    const json::Value& group_json = (*manifest)[g];
    ManifestGroup group;
    const json::Value* weights = nullptr;
    try {
      check(group_json.at("paths").is(json::Type::array), "'paths' is not an array");
      for (const auto& path : group_json.at("paths").elements()) group.paths.push_back(folder + path.as_string());
      weights = &group_json.at("weights");
      check(weights->is(json::Type::array), "'weights' is not an array");
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
inline std::vector<std::string> topology_layer_names(const json::Value& model) {
  const json::Value* topology = model.find("modelTopology");
  if (topology == nullptr || !topology->is(json::Type::object)) return {};
  if (const json::Value* keras = topology->find("model_config"); keras != nullptr && keras->is(json::Type::object))
    topology = keras;
  const json::Value* config = topology->find("config");
  if (config != nullptr && config->is(json::Type::object)) config = config->find("layers");
  if (config == nullptr || !config->is(json::Type::array)) return {};
  std::vector<std::string> names;
  for (const auto& layer : config->elements()) {
    if (!layer.is(json::Type::object)) continue;
    const json::Value* layer_config = layer.find("config");
    const json::Value* name = layer_config != nullptr && layer_config->is(json::Type::object)
                                  ? layer_config->find("name")
                                  : layer.find("name");
    if (name != nullptr && name->is(json::Type::string)) names.push_back(name->as_string());
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
  const json::Value model = json::parse(tfjs_detail::read_whole_file(model_json_path, label), model_json_path);
  check(model.is(json::Type::object), label, ": the top level is not a JSON object");
  if (const json::Value* format = model.find("format"))
    check(format->is(json::Type::string) && format->as_string() == "layers-model", label,
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
