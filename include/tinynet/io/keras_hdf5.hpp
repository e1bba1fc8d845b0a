// tinynet/io/keras_hdf5.hpp: read a Keras HDF5 weights file (.h5) into a WeightFile.
//
// Reads files written by Keras' model.save_weights() and the weights of a whole
// saved model (model.save(): the group /model_weights), following Keras' own
// loading rules (load_weights_from_hdf5_group): the attribute `layer_names` lists
// the layers in order; each layer's group has the attribute `weight_names`, whose
// entries are dataset paths relative to the layer's group (a '/' in a name nests
// groups: "res2a_branch2a/kernel:0" is <layer>/res2a_branch2a/kernel:0). Long
// attributes that Keras split into `<name>0`, `<name>1`, ... are joined. String
// attributes may be fixed- or variable-length. Layers with an empty weight_names
// are left out of the result, as Keras leaves them out. Datasets of any float or
// integer type (float64, float16, ...) are converted to float by HDF5.
//
// Needs libhdf5 (TINYNET_WITH_HDF5; see tinynet::hdf5_available()). HDF5's own
// error printing is silenced while reading; every failure is a tinynet::Error naming
// the file and the layer / weight at fault. Debian's libhdf5 is not thread-safe:
// call from one thread at a time.
#pragma once

#ifndef TINYNET_WITH_HDF5
// tinynet::tinynet defines TINYNET_WITH_HDF5 when CMake finds libhdf5-dev; see tinynet::hdf5_available().
#error "tinynet/io/keras_hdf5.hpp needs libhdf5: build tinynet with TINYNET_WITH_HDF5 (install libhdf5-dev)"
#endif

#include <hdf5.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tinynet/core/error.hpp"
#include "tinynet/io/weight_file.hpp"

namespace tinynet {
namespace hdf5_detail {

// An HDF5 identifier owned by this object and closed with `close` when it goes away.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle(hid_t id, Closer close) : id_(id), close_(close) {}
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle(Handle&& other) noexcept : id_(other.id_), close_(other.close_) { other.id_ = -1; }
  Handle& operator=(Handle&& other) noexcept {
    std::swap(id_, other.id_);
    std::swap(close_, other.close_);
    return *this;
  }
  ~Handle() {
    if (id_ >= 0) close_(id_);
  }
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }

 private:
  hid_t id_;
  Closer close_;
};

// While alive: HDF5 prints nothing on failure (the previous handler is restored after).
class SilencedErrorStack {
 public:
  SilencedErrorStack() {
    H5Eget_auto2(H5E_DEFAULT, &handler_, &data_);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  SilencedErrorStack(const SilencedErrorStack&) = delete;
  SilencedErrorStack& operator=(const SilencedErrorStack&) = delete;
  ~SilencedErrorStack() { H5Eset_auto2(H5E_DEFAULT, handler_, data_); }

 private:
  H5E_auto2_t handler_ = nullptr;
  void* data_ = nullptr;
};

// ensures: " (HDF5: <innermost error description>)" for the current error stack, or ""; clears the stack.
inline std::string error_detail() {
  std::string innermost;
  const auto keep_first = [](unsigned n, const H5E_error2_t* e, void* out) -> herr_t {
    if (n == 0 && e->desc != nullptr) *static_cast<std::string*>(out) = e->desc;
    return 0;
  };
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, keep_first, &innermost);
  H5Eclear2(H5E_DEFAULT);
  return innermost.empty() ? "" : " (HDF5: " + innermost + ")";
}

// ensures: the strings of a string attribute (1-D, scalar or null dataspace;
// fixed- or variable-length). `where` names the object in errors.
inline std::vector<std::string> read_string_attribute(hid_t object, const std::string& name, const std::string& where) {
  const std::string what = "attribute '" + name + "' of " + where;
  Handle attribute(H5Aopen(object, name.c_str(), H5P_DEFAULT), H5Aclose);
  check(attribute.valid(), "cannot open ", what, error_detail());
  Handle type(H5Aget_type(attribute.get()), H5Tclose);
  Handle space(H5Aget_space(attribute.get()), H5Sclose);
  check(type.valid() && space.valid(), "cannot inspect ", what, error_detail());
  check(H5Tget_class(type.get()) == H5T_STRING, what, " is not a string attribute");
  const hssize_t count =
      H5Sget_simple_extent_type(space.get()) == H5S_NULL ? 0 : H5Sget_simple_extent_npoints(space.get());
  check(count >= 0, "cannot count the strings of ", what, error_detail());
  if (count == 0) return {};

  Handle memory_type(H5Tcopy(H5T_C_S1), H5Tclose);
  check(memory_type.valid() && H5Tset_cset(memory_type.get(), H5Tget_cset(type.get())) >= 0,
        "cannot make a string type for ", what, error_detail());
  std::vector<std::string> strings;
  const auto n = static_cast<std::size_t>(count);
  if (H5Tis_variable_str(type.get()) > 0) {
    check(H5Tset_size(memory_type.get(), H5T_VARIABLE) >= 0, "cannot read ", what, error_detail());
    std::vector<char*> pointers(n, nullptr);
    check(H5Aread(attribute.get(), memory_type.get(), pointers.data()) >= 0, "cannot read ", what, error_detail());
    for (const char* p : pointers) strings.emplace_back(p != nullptr ? p : "");
#if H5_VERSION_GE(1, 12, 0)
    H5Treclaim(memory_type.get(), space.get(), H5P_DEFAULT, pointers.data());
#else
    H5Dvlen_reclaim(memory_type.get(), space.get(), H5P_DEFAULT, pointers.data());
#endif
  } else {
    const std::size_t width = H5Tget_size(type.get());
    check(width > 0 && H5Tset_size(memory_type.get(), width) >= 0 &&
              H5Tset_strpad(memory_type.get(), H5T_STR_NULLPAD) >= 0,
          "cannot read ", what, error_detail());
    std::vector<char> buffer(n * width);
    check(H5Aread(attribute.get(), memory_type.get(), buffer.data()) >= 0, "cannot read ", what, error_detail());
    for (std::size_t i = 0; i < n; ++i) {
      const char* s = buffer.data() + i * width;
      strings.emplace_back(s, static_cast<std::size_t>(std::find(s, s + width, '\0') - s));
    }
  }
  return strings;
}

// ensures: Keras' string-list attribute `name` of `object` (joined from `<name>0`, `<name>1`,
// ... when Keras split it), or nullopt when neither form exists.
inline std::optional<std::vector<std::string>> read_keras_string_list(hid_t object, const std::string& name,
                                                                      const std::string& where) {
  if (H5Aexists(object, name.c_str()) > 0) return read_string_attribute(object, name, where);
  std::optional<std::vector<std::string>> joined;
  for (int chunk = 0;; ++chunk) {
    const std::string chunk_name = name + std::to_string(chunk);
    if (H5Aexists(object, chunk_name.c_str()) <= 0) break;
    if (!joined) joined.emplace();
    for (auto& s : read_string_attribute(object, chunk_name, where)) joined->push_back(std::move(s));
  }
  return joined;
}

// The largest size deflate (HDF5's gzip filter) can expand data by is about 1032:1.
constexpr std::int64_t max_compression_ratio = 1032;

// requires: `count` the dataset's element count (<= 2^40). ensures: an Error naming `where`
// unless the file stores enough bytes for `count` elements of the dataset's type (or, when it
// is compressed, no more than max_compression_ratio times less): checked before allocating.
inline void check_stored_size(hid_t dataset, hid_t type, std::int64_t count, const std::string& where) {
  const auto stored = static_cast<std::int64_t>(H5Dget_storage_size(dataset));
  const auto logical = count * static_cast<std::int64_t>(H5Tget_size(type));
  Handle properties(H5Dget_create_plist(dataset), H5Pclose);
  check(properties.valid(), where, ": cannot read the dataset's creation properties", error_detail());
  const int filters = H5Pget_nfilters(properties.get());
  check(filters >= 0, where, ": cannot read the dataset's filters", error_detail());
  if (filters == 0)
    check(stored >= logical, where, ": the dataset claims ", count, " elements (", logical,
          " bytes) but the file stores ", stored, " bytes for it (corrupt shape or truncated file)");
  else
    check(logical / max_compression_ratio <= stored, where, ": the dataset claims ", count, " elements (", logical,
          " bytes) from ", stored, " compressed bytes, more than deflate's ", max_compression_ratio,
          ":1 can give (corrupt shape)");
}

// ensures: the dataset at `path` below `group`, converted to float. `where` names it in errors.
inline WeightArray read_float_dataset(hid_t group, const std::string& path, const std::string& where) {
  Handle dataset(H5Dopen2(group, path.c_str(), H5P_DEFAULT), H5Dclose);
  check(dataset.valid(), where, ": no such dataset", error_detail());
  Handle type(H5Dget_type(dataset.get()), H5Tclose);
  Handle space(H5Dget_space(dataset.get()), H5Sclose);
  check(type.valid() && space.valid(), where, ": cannot inspect the dataset", error_detail());
  const H5T_class_t type_class = H5Tget_class(type.get());
  check(type_class == H5T_FLOAT || type_class == H5T_INTEGER, where, ": dataset is not numeric (HDF5 type class ",
        static_cast<int>(type_class), ")");
  const H5S_class_t space_class = H5Sget_simple_extent_type(space.get());
  check(space_class == H5S_SCALAR || space_class == H5S_SIMPLE, where, ": dataset has no dataspace");

  WeightArray array;
  array.name = path;
  const int rank = H5Sget_simple_extent_ndims(space.get());
  check(rank >= 0, where, ": cannot read the dataset's rank", error_detail());
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  check(H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr) == rank, where, ": cannot read the shape",
        error_detail());
  std::int64_t count = 1;
  for (const hsize_t d : dims) {
    check(d <= (hsize_t{1} << 40) && count <= (std::int64_t{1} << 40) / std::max<std::int64_t>(1, d), where,
          ": implausibly large dataset");
    array.shape.push_back(static_cast<std::int64_t>(d));
    count *= static_cast<std::int64_t>(d);
  }
  check_stored_size(dataset.get(), type.get(), count, where);
  array.data.resize(static_cast<std::size_t>(count));
  if (count > 0)
    check(H5Dread(dataset.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, array.data.data()) >= 0, where,
          ": cannot read ", shape_string(array.shape), " values as float", error_detail());
  return array;
}

}  // namespace hdf5_detail

// requires: `path` is a Keras HDF5 weights file (save_weights) or saved model (model_weights).
// ensures: its layers that have weights, in `layer_names` order, each with its arrays in
// `weight_names` order (names as listed there, e.g. "conv1/kernel:0"); source == path.
// An Error naming the file and the layer / weight on any missing or unreadable part.
inline WeightFile read_keras_hdf5(const std::string& path) {
  using hdf5_detail::error_detail;
  using hdf5_detail::Handle;
  const std::string file_label = "Keras HDF5 file '" + path + "'";
  check(std::ifstream(path).good(), file_label, ": cannot open the file (missing or unreadable)");
  const hdf5_detail::SilencedErrorStack silenced;
  check(H5Fis_hdf5(path.c_str()) > 0, file_label, ": not an HDF5 file", error_detail());
  Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  check(file.valid(), file_label, ": cannot open as HDF5", error_detail());

  std::string root_path = "/";
  Handle root(H5Gopen2(file.get(), "/", H5P_DEFAULT), H5Gclose);
  check(root.valid(), file_label, ": cannot open the root group", error_detail());
  auto layer_names = hdf5_detail::read_keras_string_list(root.get(), "layer_names", file_label + " at '/'");
  if (!layer_names && H5Lexists(root.get(), "model_weights", H5P_DEFAULT) > 0) {
    root_path = "/model_weights/";
    root = Handle(H5Gopen2(file.get(), "/model_weights", H5P_DEFAULT), H5Gclose);
    check(root.valid(), file_label, ": '/model_weights' is not a group", error_detail());
    layer_names = hdf5_detail::read_keras_string_list(root.get(), "layer_names", file_label + " at '/model_weights'");
  }
  check(layer_names.has_value(), file_label,
        ": not a Keras weights file (no 'layer_names' attribute at '/' or '/model_weights')");

  WeightFile result;
  result.source = path;
  for (const auto& layer : *layer_names) {
    const std::string layer_label = file_label + ", layer '" + layer + "'";
    Handle group(H5Gopen2(root.get(), layer.c_str(), H5P_DEFAULT), H5Gclose);
    check(group.valid(), layer_label, ": listed in layer_names but there is no group '", root_path, layer, "'",
          error_detail());
    const auto weight_names = hdf5_detail::read_keras_string_list(group.get(), "weight_names", layer_label);
    check(weight_names.has_value(), layer_label, ": the group has no 'weight_names' attribute");
    if (weight_names->empty()) continue;
    LayerWeights entry;
    entry.layer = layer;
    for (const auto& weight : *weight_names) {
      const std::string where = layer_label + ", weight '" + weight + "' (listed in weight_names) at '" + root_path +
                                layer + "/" + weight + "'";
      entry.weights.push_back(hdf5_detail::read_float_dataset(group.get(), weight, where));
    }
    result.layers.push_back(std::move(entry));
  }
  return result;
}

}  // namespace tinynet
