// tinynet/io/onnx_export.hpp: a built tinynet model as an ONNX inference graph (opset 13).
//
//   save_onnx("model.onnx", model, {});          // model built (setup), on the host
//   onnx::ModelProto proto = to_onnx(model, {});  // the same, in memory
//
// Each layer becomes the ONNX operators of its inference behaviour, named after the layer's
// path in the model ("conv2d", "res2a/conv_a"), its parameters initializers named as in
// checkpoints ("res2a/conv_a/kernel"):
//   Conv2D -> Conv (explicit pads: TensorFlow's 'same' split, the odd pixel bottom/right);
//   BatchNorm -> BatchNormalization (epsilon, momentum) [+ Relu "<path>/relu" when fused];
//   ReLU -> Relu; GELU -> its erf form (io/onnx_gelu.hpp: Div "<path>/scale", Erf, Add, Mul,
//   Mul "<path>"); MaxPool2D -> MaxPool (explicit pads); Dense -> Gemm; Flatten -> Flatten;
//   GlobalAveragePooling2D -> GlobalAveragePool + Flatten "<path>/flatten"; ZeroPadding2D ->
//   Pad; Rescaling -> Mul [+ Add "<path>/offset"]; Dropout -> nothing (inference graph);
//   Sequential -> its layers; Residual -> branch + Add "<path>/add"; Bottleneck -> main path,
//   shortcut, Add "<path>/add", Relu "<path>/relu".
// The graph's input is [N, C, H, W] with a dynamic batch N and the model's built C, H, W; with
// options.preprocessing, leading nodes "preprocessing/..." turn 0..255 pixel values into what
// the model expects (and the model's metadata key "tinynet.preprocessing" records it).
#pragma once

#include <cmath>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "tinynet/data/normalize.hpp"
#include "tinynet/io/atomic_file.hpp"
#include "tinynet/io/onnx_preprocessing.hpp"
#include "tinynet/io/onnx_proto.hpp"
#include "tinynet/layers/batch_norm.hpp"
#include "tinynet/layers/bottleneck.hpp"
#include "tinynet/layers/conv2d.hpp"
#include "tinynet/layers/dense.hpp"
#include "tinynet/layers/dropout.hpp"
#include "tinynet/layers/flatten.hpp"
#include "tinynet/layers/gelu.hpp"
#include "tinynet/layers/global_average_pooling2d.hpp"
#include "tinynet/layers/max_pool2d.hpp"
#include "tinynet/layers/relu.hpp"
#include "tinynet/layers/rescaling.hpp"
#include "tinynet/layers/residual.hpp"
#include "tinynet/layers/sequential.hpp"
#include "tinynet/layers/zero_padding2d.hpp"

namespace tinynet {

struct OnnxExportOptions {
  std::string input_name = "input";
  std::string output_name = "output";
  std::optional<Preprocessing> preprocessing;  // leading nodes taking 0..255 pixel values
};

namespace detail {

// Appends the nodes of one layer (and its sub-layers) to a graph.
template <class T>
class OnnxGraphWriter {
 public:
  explicit OnnxGraphWriter(onnx::GraphProto& graph) : graph_(graph) {}

  // ensures: the nodes computing `layer` (at node name `path`) from tensor `x`; returns the
  // name of its output tensor. An Error naming the layer when it has no ONNX form.
  std::string layer(const Layer<T>& l, const std::string& path, const std::string& x) {
    if (const auto* b = dynamic_cast<const Bottleneck<T>*>(&l)) return bottleneck(*b, path, x);
    if (const auto* r = dynamic_cast<const Residual<T>*>(&l)) {
      const std::string branch = children(*r, path, x);
      return node("Add", path + "/add", {x, branch});
    }
    if (const auto* s = dynamic_cast<const Sequential<T>*>(&l)) return children(*s, path, x);
    if (const auto* c = dynamic_cast<const Conv2D<T>*>(&l)) return conv(*c, path, x);
    if (const auto* bn = dynamic_cast<const BatchNorm<T>*>(&l)) {
      auto& n = *graph_.add_node();
      const std::string y = named(n, "BatchNormalization", path,
                                  {x, param(l, path, 0), param(l, path, 1), param(l, path, 2), param(l, path, 3)});
      add_onnx_attribute(n, "epsilon", static_cast<float>(bn->epsilon()));
      add_onnx_attribute(n, "momentum", static_cast<float>(bn->momentum()));
      return bn->relu() ? node("Relu", path + "/relu", {y}) : y;
    }
    if (dynamic_cast<const ReLU<T>*>(&l)) return node("Relu", path, {x});
    if (dynamic_cast<const GELU<T>*>(&l)) {
      const std::string erf = node("Erf", path + "/erf", {node("Div", path + "/scale", {x, scalar(path + "/sqrt2", std::sqrt(2.0))})});
      const std::string plus_one = node("Add", path + "/plus_one", {erf, scalar(path + "/one", 1)});
      return node("Mul", path, {node("Mul", path + "/times_x", {x, plus_one}), scalar(path + "/half", 0.5)});
    }
    if (const auto* p = dynamic_cast<const MaxPool2D<T>*>(&l)) {
      auto& n = *graph_.add_node();
      const std::string y = named(n, "MaxPool", path, {x});
      window_attributes(n, p->geometry());
      return y;
    }
    if (const auto* d = dynamic_cast<const Dense<T>*>(&l)) {
      std::vector<std::string> inputs{x, param(l, path, 0)};
      if (d->parameters().entries().size() > 1) inputs.push_back(param(l, path, 1));
      return node("Gemm", path, inputs);
    }
    if (dynamic_cast<const Flatten<T>*>(&l)) return flatten(path, x);
    if (dynamic_cast<const GlobalAveragePooling2D<T>*>(&l))
      return flatten(path + "/flatten", node("GlobalAveragePool", path, {x}));
    if (const auto* z = dynamic_cast<const ZeroPadding2D<T>*>(&l)) {
      const ExplicitPadding& p = z->padding();
      const std::vector<std::int64_t> pads{0, 0, p.top, p.left, 0, 0, p.bottom, p.right};
      auto* init = graph_.add_initializer();
      fill_onnx_tensor<std::int64_t>(*init, path + "/pads", {8}, pads.data());
      auto& n = *graph_.add_node();
      const std::string y = named(n, "Pad", path, {x, init->name()});
      n.add_attribute()->CopyFrom(string_attribute("mode", "constant"));
      return y;
    }
    if (const auto* r = dynamic_cast<const Rescaling<T>*>(&l)) {
      const std::string y = node("Mul", path, {x, scalar(path + "/scale", r->scale())});
      return r->offset() == 0 ? y : node("Add", path + "/offset", {y, scalar(path + "/offset_value", r->offset())});
    }
    if (dynamic_cast<const Dropout<T>*>(&l)) return x;  // the identity in inference
    fail("ONNX export: layer '", path, "' (", l.type(),
         ") has no ONNX form (supported: Conv2D, BatchNormalization, ReLU, GELU, MaxPooling2D, Dense, Flatten, "
         "GlobalAveragePooling2D, ZeroPadding2D, Rescaling, Dropout, Sequential, Residual, Bottleneck)");
  }

  // ensures: per-channel pixel preprocessing nodes applied to `x`; returns their output.
  std::string preprocessing(const Preprocessing& p, std::int64_t channels, const std::string& x) {
    const OnnxPreprocessingConstants k = onnx_preprocessing_constants(p, channels);
    std::string y = x;
    if (!k.channel_order.empty()) {
      auto* init = graph_.add_initializer();
      fill_onnx_tensor<std::int64_t>(*init, "preprocessing/channel_order", {channels}, k.channel_order.data());
      auto& n = *graph_.add_node();
      y = named(n, "Gather", "preprocessing/channels", {y, init->name()});
      add_onnx_attribute(n, "axis", std::int64_t(1));
    }
    if (!k.scale.empty())
      y = node("Mul", "preprocessing/scale", {y, per_channel("preprocessing/scale_value", k.scale)});
    if (!k.shift.empty())
      y = node("Add", "preprocessing/shift", {y, per_channel("preprocessing/shift_value", k.shift)});
    return y;
  }

  // ensures: the op `op` named `name` (its output tensor too) on `inputs`; returns the output.
  std::string node(const std::string& op, const std::string& name, const std::vector<std::string>& inputs) {
    return named(*graph_.add_node(), op, name, inputs);
  }

 private:
  std::string named(onnx::NodeProto& n, const std::string& op, const std::string& name,
                    const std::vector<std::string>& inputs) {
    n.set_op_type(op);
    n.set_name(name);
    for (const auto& i : inputs) n.add_input(i);
    n.add_output(name);
    return name;
  }
  // ensures: the nodes of c's children in order, each at "<path>/<child name>".
  std::string children(const Composite<T>& c, const std::string& path, const std::string& x) {
    std::string y = x;
    for (std::size_t i = 0; i < c.size(); ++i) y = layer(c.layer(i), child_path(path, c.layer(i)), y);
    return y;
  }
  std::string bottleneck(const Bottleneck<T>& b, const std::string& path, const std::string& x) {
    std::string main = x;
    for (std::size_t i = 0; i < 6; ++i) main = layer(b.layer(i), child_path(path, b.layer(i)), main);
    std::string shortcut = x;
    for (std::size_t i = 6; i < b.size(); ++i) shortcut = layer(b.layer(i), child_path(path, b.layer(i)), shortcut);
    return node("Relu", path + "/relu", {node("Add", path + "/add", {main, shortcut})});
  }
  std::string conv(const Conv2D<T>& c, const std::string& path, const std::string& x) {
    std::vector<std::string> inputs{x, param(c, path, 0)};
    if (c.parameters().entries().size() > 1) inputs.push_back(param(c, path, 1));
    auto& n = *graph_.add_node();
    const std::string y = named(n, "Conv", path, inputs);
    window_attributes(n, c.geometry());
    add_onnx_attribute(n, "dilations", std::vector<std::int64_t>{1, 1});
    add_onnx_attribute(n, "group", std::int64_t(1));
    return y;
  }
  std::string flatten(const std::string& name, const std::string& x) {
    auto& n = *graph_.add_node();
    const std::string y = named(n, "Flatten", name, {x});
    add_onnx_attribute(n, "axis", std::int64_t(1));
    return y;
  }
  static void window_attributes(onnx::NodeProto& n, const ConvGeometry& g) {
    add_onnx_attribute(n, "kernel_shape", std::vector<std::int64_t>{g.kernel_h, g.kernel_w});
    add_onnx_attribute(n, "strides", std::vector<std::int64_t>{g.stride_h, g.stride_w});
    add_onnx_attribute(n, "pads", std::vector<std::int64_t>{g.pad_top, g.pad_left, g.pad_bottom, g.pad_right});
  }
  static onnx::AttributeProto string_attribute(const std::string& name, const std::string& value) {
    onnx::AttributeProto a;
    a.set_name(name);
    a.set_type(onnx::AttributeProto_AttributeType_STRING);
    a.set_s(value);
    return a;
  }
  static std::string child_path(const std::string& path, const Layer<T>& child) {
    return path.empty() ? child.name() : path + "/" + child.name();
  }
  // ensures: parameter `index` of `l` as an initializer "<path>/<parameter name>"; returns its name.
  std::string param(const Layer<T>& l, const std::string& path, int index) {
    const auto& entry = l.parameters().entries()[static_cast<std::size_t>(index)];
    const std::string name = path + "/" + entry.name;
    fill_onnx_tensor(*graph_.add_initializer(), name, l.parameters().value(index));
    return name;
  }
  std::string scalar(const std::string& name, double value) {
    fill_onnx_tensor<T>(*graph_.add_initializer(), name, {}, &value);
    return name;
  }
  std::string per_channel(const std::string& name, const std::vector<double>& values) {
    fill_onnx_tensor<T>(*graph_.add_initializer(), name, {static_cast<std::int64_t>(values.size()), 1, 1},
                        values.data());
    return name;
  }

  onnx::GraphProto& graph_;
};

template <class T>
void set_onnx_value_info(onnx::ValueInfoProto& info, const std::string& name, const Shape& sample) {
  info.set_name(name);
  auto* type = info.mutable_type()->mutable_tensor_type();
  type->set_elem_type(onnx_data_type<T>());
  auto* shape = type->mutable_shape();
  shape->add_dim()->set_dim_param("N");
  for (int i = 0; i < sample.rank(); ++i) shape->add_dim()->set_dim_value(sample[i]);
}

}  // namespace detail

// requires: model built (Sequential::setup or build_once), its parameters on the host, every
// layer one the header comment lists; input and output names distinct and non-empty.
// ensures: the ONNX model of model's inference (eval-mode) forward pass: graph named after the
// model, input options.input_name [N, C, H, W], output options.output_name [N, ...].
template <class T>
onnx::ModelProto to_onnx(const Layer<T>& model, const OnnxExportOptions& options = {}) {
  check(model.is_built(), "ONNX export: ", model.type(), " '", model.name(), "' is not built (call setup() first)");
  check(model.device() == Device::cpu, "ONNX export: move ", model.type(), " '", model.name(), "' to the host first");
  check(!options.input_name.empty() && !options.output_name.empty() && options.input_name != options.output_name,
        "ONNX export: input and output names must be distinct and non-empty, got '", options.input_name, "' and '",
        options.output_name, "'");
  onnx::ModelProto proto;
  proto.set_ir_version(onnx_ir_version);
  proto.set_producer_name("tinynet");
  auto* opset = proto.add_opset_import();
  opset->set_domain("");
  opset->set_version(onnx_export_opset);
  onnx::GraphProto& graph = *proto.mutable_graph();
  graph.set_name(model.name().empty() ? model.type() : model.name());
  detail::set_onnx_value_info<T>(*graph.add_input(), options.input_name, model.input_shape());

  detail::OnnxGraphWriter<T> writer(graph);
  std::string x = options.input_name;
  if (options.preprocessing) {
    check(model.input_shape().rank() == 3, "ONNX export: preprocessing needs an image model ([C,H,W] input), got ",
          model.input_shape());
    x = writer.preprocessing(*options.preprocessing, model.input_shape()[0], x);
    auto* meta = proto.add_metadata_props();
    meta->set_key(onnx_preprocessing_key);
    meta->set_value(format_onnx_preprocessing(*options.preprocessing));
  }
  const bool sequence = dynamic_cast<const Sequential<T>*>(&model) != nullptr;
  x = writer.layer(model, sequence ? "" : (model.name().empty() ? model.type() : model.name()), x);

  // The last node's output takes the output name (an Identity when no node computes anything).
  bool renamed = false;
  for (auto& n : *graph.mutable_node())
    if (n.output(0) == x) {
      n.set_output(0, options.output_name);
      renamed = true;
    }
  if (!renamed) writer.node("Identity", options.output_name, {x});
  detail::set_onnx_value_info<T>(*graph.add_output(), options.output_name, model.output_shape());
  return proto;
}

// requires: as to_onnx; `path` writable. ensures: the ONNX file, written atomically.
template <class T>
void save_onnx(const std::string& path, const Layer<T>& model, const OnnxExportOptions& options = {}) {
  const onnx::ModelProto proto = to_onnx(model, options);
  write_file_atomically(path, [&](std::ostream& out) {
    check(proto.SerializeToOstream(&out), "ONNX export: serialising the model to '", path, "' failed");
  });
}

}  // namespace tinynet
