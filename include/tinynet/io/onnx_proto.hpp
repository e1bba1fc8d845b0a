// tinynet/io/onnx_proto.hpp: the pieces of the ONNX protobuf schema (Debian's libonnx-dev,
// onnx/onnx_pb.h) that tinynet's ONNX export and import share: the opset written and the
// opsets read, tensors <-> TensorProto, node attributes.
//
// Needs the build option TINYNET_WITH_ONNX (links onnx_proto and protobuf); docs/onnx.md.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "tinynet/core/error.hpp"
#include "tinynet/core/tensor.hpp"

namespace tinynet {

constexpr std::int64_t onnx_export_opset = 13;       // the default-domain opset written
constexpr std::int64_t onnx_ir_version = 7;          // the IR version that introduced opset 13
constexpr std::int64_t onnx_oldest_opset_read = 13;  // operator semantics tinynet's import follows,
constexpr std::int64_t onnx_newest_opset_read = 17;  // unchanged for its operators over 13..17

// ensures: FLOAT for float, DOUBLE for double, INT64 for std::int64_t.
template <class T>
constexpr onnx::TensorProto_DataType onnx_data_type() {
  static_assert(std::is_same<T, float>::value || std::is_same<T, double>::value || std::is_same<T, std::int64_t>::value,
                "ONNX tensors: float, double or int64");
  return std::is_same<T, float>::value    ? onnx::TensorProto_DataType_FLOAT
         : std::is_same<T, double>::value ? onnx::TensorProto_DataType_DOUBLE
                                          : onnx::TensorProto_DataType_INT64;
}

// ensures: `dims` as a TensorProto of element type T named `name`, values from `values`
// (converted to T; little-endian raw_data, as the ONNX helpers write it).
template <class T, class Source>
void fill_onnx_tensor(onnx::TensorProto& proto, const std::string& name, const std::vector<std::int64_t>& dims,
                      const Source* values) {
  proto.set_name(name);
  proto.set_data_type(onnx_data_type<T>());
  std::int64_t count = 1;
  for (std::int64_t d : dims) {
    proto.add_dims(d);
    count *= d;
  }
  std::string raw(static_cast<std::size_t>(count) * sizeof(T), '\0');
  for (std::int64_t i = 0; i < count; ++i) {
    const T v = static_cast<T>(values[i]);
    std::memcpy(&raw[static_cast<std::size_t>(i) * sizeof(T)], &v, sizeof(T));
  }
  proto.set_raw_data(std::move(raw));
}

// ensures: the TensorProto of a host tensor (same shape and values).
template <class T>
void fill_onnx_tensor(onnx::TensorProto& proto, const std::string& name, const Tensor<T>& tensor) {
  std::vector<std::int64_t> dims;
  for (int i = 0; i < tensor.rank(); ++i) dims.push_back(tensor.dim(i));
  fill_onnx_tensor<T>(proto, name, dims, tensor.data());
}

// A TensorProto read back: its dimensions and its values as doubles.
struct OnnxTensorValues {
  std::vector<std::int64_t> dims;
  std::vector<double> values;
  Shape shape() const { return Shape(dims); }
};

namespace detail {
template <class Stored>
void read_onnx_values(const onnx::TensorProto& p, std::int64_t count, const char* field_name, int field_size,
                      const Stored* field, const std::string& where, std::vector<double>& out) {
  out.resize(static_cast<std::size_t>(count));
  if (p.has_raw_data()) {
    check(p.raw_data().size() == static_cast<std::size_t>(count) * sizeof(Stored), where, ": tensor '", p.name(),
          "' has ", p.raw_data().size(), " bytes of raw_data, its shape needs ", count * sizeof(Stored));
    for (std::int64_t i = 0; i < count; ++i) {
      Stored v;
      std::memcpy(&v, p.raw_data().data() + i * sizeof(Stored), sizeof(Stored));
      out[static_cast<std::size_t>(i)] = static_cast<double>(v);
    }
    return;
  }
  check(field_size == count, where, ": tensor '", p.name(), "' has ", field_size, " values in ", field_name,
        ", its shape needs ", count);
  for (std::int64_t i = 0; i < count; ++i) out[static_cast<std::size_t>(i)] = static_cast<double>(field[i]);
}
}  // namespace detail

// requires: p a float, double or int64 tensor with its data in the message (external data is
// not read). ensures: its dims and values; an Error naming `where` and the tensor otherwise.
inline OnnxTensorValues read_onnx_tensor(const onnx::TensorProto& p, const std::string& where) {
  OnnxTensorValues t;
  std::int64_t count = 1;
  for (std::int64_t d : p.dims()) {
    check(d >= 0, where, ": tensor '", p.name(), "' has a negative dimension ", d);
    check(d == 0 || count <= (std::int64_t(1) << 40) / d, where, ": tensor '", p.name(), "' has over 2^40 elements");
    t.dims.push_back(d);
    count *= d;
  }
  check(p.data_location() != onnx::TensorProto_DataLocation_EXTERNAL, where, ": tensor '", p.name(),
        "' keeps its data in an external file, which tinynet does not read");
  switch (p.data_type()) {
    case onnx::TensorProto_DataType_FLOAT:
      detail::read_onnx_values(p, count, "float_data", p.float_data_size(), p.float_data().data(), where, t.values);
      break;
    case onnx::TensorProto_DataType_DOUBLE:
      detail::read_onnx_values(p, count, "double_data", p.double_data_size(), p.double_data().data(), where, t.values);
      break;
    case onnx::TensorProto_DataType_INT64:
      detail::read_onnx_values(p, count, "int64_data", p.int64_data_size(), p.int64_data().data(), where, t.values);
      break;
    default:
      fail(where, ": tensor '", p.name(), "' has element type ", p.data_type(),
           " (tinynet reads float, double, int64)");
  }
  return t;
}

// ensures: an attribute of node `node` named `name`, of the given value.
inline void add_onnx_attribute(onnx::NodeProto& node, const std::string& name, const std::vector<std::int64_t>& ints) {
  auto* a = node.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto_AttributeType_INTS);
  for (std::int64_t v : ints) a->add_ints(v);
}
inline void add_onnx_attribute(onnx::NodeProto& node, const std::string& name, std::int64_t value) {
  auto* a = node.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto_AttributeType_INT);
  a->set_i(value);
}
inline void add_onnx_attribute(onnx::NodeProto& node, const std::string& name, float value) {
  auto* a = node.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto_AttributeType_FLOAT);
  a->set_f(value);
}

// ensures: the shortest decimal (as a double) that rounds to the float f: a float attribute
// read back as the number it was written from (1e-3f -> 1e-3, not 0.0010000000475).
inline double onnx_float_as_decimal(float f) {
  char text[32];
  for (int digits = 1; digits <= 9; ++digits) {
    std::snprintf(text, sizeof text, "%.*g", digits, static_cast<double>(f));
    if (std::strtof(text, nullptr) == f) break;
  }
  return std::strtod(text, nullptr);
}

// ensures: "node 'name' (Op)", how errors name a node.
inline std::string onnx_node_label(const onnx::NodeProto& node) {
  return "node '" + node.name() + "' (" + node.op_type() + ")";
}

// ensures: the attribute `name` of `node` when present (nullptr otherwise); an Error naming
// the node when it has another type than `type`.
inline const onnx::AttributeProto* find_onnx_attribute(const onnx::NodeProto& node, const std::string& name,
                                                       onnx::AttributeProto_AttributeType type) {
  for (const auto& a : node.attribute())
    if (a.name() == name) {
      check(a.type() == type, onnx_node_label(node), ": attribute '", name, "' has type ", a.type(), ", expected ",
            type);
      return &a;
    }
  return nullptr;
}
inline std::int64_t onnx_int_attribute(const onnx::NodeProto& node, const std::string& name, std::int64_t fallback) {
  const auto* a = find_onnx_attribute(node, name, onnx::AttributeProto_AttributeType_INT);
  return a ? a->i() : fallback;
}
inline double onnx_float_attribute(const onnx::NodeProto& node, const std::string& name, double fallback) {
  const auto* a = find_onnx_attribute(node, name, onnx::AttributeProto_AttributeType_FLOAT);
  return a ? a->f() : fallback;
}
inline std::vector<std::int64_t> onnx_ints_attribute(const onnx::NodeProto& node, const std::string& name,
                                                     std::vector<std::int64_t> fallback) {
  const auto* a = find_onnx_attribute(node, name, onnx::AttributeProto_AttributeType_INTS);
  return a ? std::vector<std::int64_t>(a->ints().begin(), a->ints().end()) : fallback;
}
inline std::string onnx_string_attribute(const onnx::NodeProto& node, const std::string& name, std::string fallback) {
  const auto* a = find_onnx_attribute(node, name, onnx::AttributeProto_AttributeType_STRING);
  return a ? a->s() : fallback;
}

}  // namespace tinynet
