// tinynet/io/onnx_import.hpp: an ONNX inference graph as a tinynet Sequential, ready to run
// or to train.
//
//   OnnxImport<float> imported = load_onnx<float>("model.onnx");
//   imported.model->set_training(false);
//   const Tensor<float>& y = imported.model->forward(x);   // x: [N] + input_sample_shape
//
// The graph must be a chain from its input to its output, with residual blocks: a fork
// joined by an Add. Operators (opsets 13..17) become layers:
//   Conv (2-D, group 1, no dilation; pads or auto_pad VALID/SAME_UPPER) -> Conv2D, its padding
//     'same' when the pads are TensorFlow's split for that input, 'valid' when zero, else
//     explicit; BatchNormalization -> BatchNorm (a Relu right after it fused into it); Relu ->
//     ReLU; GELU's erf form (io/onnx_gelu.hpp) -> GELU; MaxPool ('valid' or TensorFlow 'same' pads, no ceil_mode) -> MaxPool2D; Gemm (alpha,
//     beta and transB folded into the weights) or MatMul by a 2-D initializer -> Dense;
//     Flatten (axis 1) -> Flatten; GlobalAveragePool followed by Flatten -> GlobalAveragePooling2D;
//     Pad (constant zeros, H and W only) -> ZeroPadding2D; Mul by a scalar [then Add of a
//     scalar] -> Rescaling; Dropout -> Dropout (its ratio); Identity -> nothing.
//   A fork whose join is Add(x, branch(x)) -> Residual, unless it is a ResNet bottleneck: the
//     main path Conv 1x1/s, BN, Relu, Conv 3x3 same, BN, Relu, Conv 1x1 (4x filters), BN, the
//     shortcut nothing or Conv 1x1/s + BN, a Relu after the Add -> Bottleneck.
// Layers are named from the node names (export's "<path>" naming; "res2a/conv_a" -> layer
// "res2a"), weights come from the initializers only. BatchNormalization's float epsilon and
// momentum become the shortest decimals that round to them (1e-3 stays 1e-3). Leading nodes
// named "preprocessing/..." are skipped when the metadata key tinynet.preprocessing describes
// them (returned in `preprocessing`). Anything else: an Error naming the file, node and op.
#pragma once

#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "tinynet/io/onnx_gelu.hpp"
#include "tinynet/io/onnx_graph.hpp"
#include "tinynet/io/onnx_preprocessing.hpp"
#include "tinynet/io/onnx_window.hpp"
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

template <class T>
struct OnnxImport {
  std::unique_ptr<Sequential<T>> model;        // built for input_sample_shape, weights loaded
  Shape input_sample_shape;                    // the graph input's shape without the batch
  std::optional<Preprocessing> preprocessing;  // what the skipped "preprocessing/..." nodes did
  std::string input_name, output_name;
};

namespace detail {

template <class T>
class OnnxModelReader {
 public:
  explicit OnnxModelReader(const OnnxGraph& g) : g_(g), used_(static_cast<std::size_t>(g.node_count()), false) {}

  // ensures: layers computing tensor `stop` from tensor `t` (of sample shape `shape`) appended
  // to seq, their nodes' names read below `prefix`; node `skip` (a join already handled) is
  // not followed. Returns the sample shape of `stop`.
  Shape chain(Sequential<T>& seq, std::string t, const std::string& stop, const std::string& prefix, Shape shape,
              int skip = -1) {
    while (t != stop) {
      std::vector<int> next;
      for (int c : g_.consumers(t))
        if (c != skip) next.push_back(c);
      check(!next.empty(), g_.where(), ": tensor '", t, "' is used by no node, but the path should go on to '", stop,
            "'");
      const std::vector<int> gelu = onnx_gelu_nodes(g_, t);
      if (!gelu.empty()) {
        add(seq, std::make_unique<GELU<T>>(), name_of(gelu[0], prefix));
        for (int k : gelu) t = use(k);
      } else if (next.size() > 1 || is_join(next[0])) {
        t = fork(seq, t, next, stop, prefix, shape);
      } else if (nested_group(next[0], prefix).empty()) {
        t = step(seq, next[0], stop, prefix, shape);
      } else {
        t = nested(seq, t, nested_group(next[0], prefix), prefix, shape);
      }
    }
    return shape;
  }

  // ensures: past the leading "preprocessing/..." nodes from `t`; returns their output.
  std::string skip_preprocessing(std::string t) {
    for (;;) {
      const std::vector<int> next = g_.consumers(t);
      if (next.size() != 1 || g_.node(next[0]).name().rfind("preprocessing/", 0) != 0) return t;
      used_[static_cast<std::size_t>(next[0])] = true;
      t = g_.node(next[0]).output(0);
    }
  }

  // requires: the model built. ensures: every pending initializer copied into its parameter;
  // an Error naming the node when the built parameter has another shape (or a node was left out).
  void load_parameters() {
    for (std::size_t i = 0; i < used_.size(); ++i)
      check(used_[i], g_.where(), ": ", onnx_node_label(g_.node(static_cast<int>(i))),
            " is not on the path from the input to the output");
    for (const auto& p : pending_) {
      Tensor<T> dst = p.layer->parameters().value(p.index);
      check(dst.shape() == p.values.shape(), g_.where(), ": ", p.source, ": initializer of shape ", p.values.shape(),
            ", but the layer built for input ", p.layer->input_shape(), " needs ", dst.shape(), " (shape mismatch)");
      for (std::int64_t k = 0; k < dst.numel(); ++k)
        dst[k] = static_cast<T>(p.values.values[static_cast<std::size_t>(k)]);
    }
  }

 private:
  struct Pending {
    Layer<T>* layer;
    int index;
    OnnxTensorValues values;
    std::string source;
  };

  const onnx::NodeProto& node(int i) const { return g_.node(i); }
  std::string label(int i) const { return g_.where() + ": " + onnx_node_label(node(i)); }
  bool is_join(int i) const {
    const auto& n = node(i);
    return n.op_type() == "Add" && n.input_size() == 2 && !g_.is_constant(n, 0) && !g_.is_constant(n, 1);
  }
  // ensures: the node index of the only consumer of `out` when it is an `op` (and `out` is not
  // `stop`), else -1.
  int only_follower(const std::string& out, const std::string& stop, const char* op) const {
    if (out == stop) return -1;
    const auto next = g_.consumers(out);
    return next.size() == 1 && node(next[0]).op_type() == op ? next[0] : -1;
  }
  // ensures: the layer name for node i below `prefix`: the first path component after it.
  std::string name_of(int i, const std::string& prefix) const {
    const std::string& s = node(i).name();
    if (s.size() <= prefix.size() || s.compare(0, prefix.size(), prefix) != 0) return "";
    const std::string rest = s.substr(prefix.size());
    return rest.substr(0, rest.find('/'));
  }
  // ensures: "G" when node i is named "<prefix>G/...": it starts a nested Sequential G; else "".
  std::string nested_group(int i, const std::string& prefix) const {
    const std::string group = name_of(i, prefix);
    return !group.empty() && node(i).name().size() > prefix.size() + group.size() ? group : "";
  }
  // ensures: the nodes named "<prefix><group>/..." from tensor t on (up to the last such node)
  // imported as a nested Sequential `group`; returns the tensor after them.
  std::string nested(Sequential<T>& seq, const std::string& t, const std::string& group, const std::string& prefix,
                     Shape& shape) {
    const std::string inner = prefix + group + "/";
    std::string end;
    for (int k = 0; k < g_.node_count(); ++k)
      if (node(k).name().compare(0, inner.size(), inner) == 0) end = node(k).output(0);
    auto inside = std::make_unique<Sequential<T>>(group);
    shape = chain(*inside, t, end, inner, shape);
    add(seq, std::move(inside), group);
    return end;
  }
  // ensures: `layer` appended to seq, named `name` unless that is empty or taken (then auto-named).
  template <class L>
  L& add(Sequential<T>& seq, std::unique_ptr<L> layer, const std::string& name) {
    if (!name.empty() && names_[&seq].insert(name).second) layer->set_name(name);
    return static_cast<L&>(seq.add(std::move(layer)));
  }
  void pend(Layer<T>& layer, int index, int node_index, int input) {
    const auto& n = node(node_index);
    pending_.push_back({&layer, index, g_.constant(n, input), onnx_node_label(n) + " input '" + n.input(input) + "'"});
  }
  // ensures: the value of input k of node i, an initializer holding one number (else an Error).
  double scalar_constant(int i, int k) const {
    const OnnxTensorValues v = g_.constant(node(i), k);
    check(v.values.size() == 1, label(i), ": input ", k, " '", node(i).input(k), "' has shape ", v.shape(),
          " where tinynet imports a single number (Mul and Add by scalars only, as Rescaling)");
    return v.values[0];
  }
  std::string use(int i) {
    g_.check_single_output(node(i));
    used_[static_cast<std::size_t>(i)] = true;
    return node(i).output(0);
  }

  // ensures: node i (and a node fused with it) imported; returns the tensor after them.
  std::string step(Sequential<T>& seq, int i, const std::string& stop, const std::string& prefix, Shape& shape) {
    const auto& n = node(i);
    const std::string& op = n.op_type();
    const std::string name = name_of(i, prefix);
    check(n.domain().empty() || n.domain() == "ai.onnx", label(i), ": operator domain '", n.domain(),
          "' is not supported by tinynet's ONNX import");
    if (op == "Conv") {
      const OnnxWindow w = read_onnx_window(g_, i, shape);
      auto& c = add(
          seq, std::make_unique<Conv2D<T>>(w.filters, w.kh, w.kw, Conv2DOptions{w.sh, w.sw, w.padding, w.pads, w.bias}),
          name);
      pend_conv(c, i);
      shape = w.output;
      return use(i);
    }
    if (op == "BatchNormalization") {
      const int relu = only_follower(n.output(0), stop, "Relu");
      auto& bn = add(seq, std::make_unique<BatchNorm<T>>(batch_norm_options(i, relu >= 0)), name);
      pend_batch_norm(bn, i);
      use(i);
      return relu >= 0 ? use(relu) : n.output(0);
    }
    if (op == "Relu") {
      add(seq, std::make_unique<ReLU<T>>(), name);
      return use(i);
    }
    if (op == "MaxPool") {
      const OnnxWindow w = read_onnx_window(g_, i, shape);
      check(onnx_int_attribute(n, "ceil_mode", 0) == 0, label(i), ": ceil_mode 1 is not supported");
      check(w.padding != Padding::explicit_amounts, label(i), ": pads [", w.pads.top, ",", w.pads.left, ",",
            w.pads.bottom, ",", w.pads.right, "] are neither zero nor TensorFlow's 'same' split for input ", shape,
            " (tinynet's MaxPool2D pads only those two ways)");
      add(seq, std::make_unique<MaxPool2D<T>>(w.kh, w.kw, w.sh, w.sw, w.padding), name);
      shape = Shape{shape[0], w.output[1], w.output[2]};
      return use(i);
    }
    if (op == "Gemm" || op == "MatMul") return dense(seq, i, name, shape);
    if (op == "Flatten") {
      check(onnx_int_attribute(n, "axis", 1) == 1, label(i), ": axis ", onnx_int_attribute(n, "axis", 1),
            " (tinynet flattens from axis 1)");
      add(seq, std::make_unique<Flatten<T>>(), name);
      shape = Shape{shape.numel()};
      return use(i);
    }
    if (op == "GlobalAveragePool") {
      const int flatten = only_follower(n.output(0), stop, "Flatten");
      check(flatten >= 0 && onnx_int_attribute(node(flatten), "axis", 1) == 1, label(i),
            ": must be followed by Flatten (axis 1): tinynet's GlobalAveragePooling2D outputs [N, C]");
      check(shape.rank() == 3, label(i), ": needs a [C, H, W] input, got ", shape);
      add(seq, std::make_unique<GlobalAveragePooling2D<T>>(), name);
      shape = Shape{shape[0]};
      use(i);
      return use(flatten);
    }
    if (op == "Pad") return pad(seq, i, name, shape);
    if (op == "Mul" || op == "Add") return rescaling(seq, i, name, stop);
    if (op == "Dropout") {
      const double ratio = g_.has_input(n, 1) ? scalar_constant(i, 1) : 0.5;
      add(seq, std::make_unique<Dropout<T>>(ratio), name);
      return use(i);
    }
    if (op == "Identity") return use(i);
    fail(label(i),
         ": operator not supported by tinynet's ONNX import (supported: Conv, BatchNormalization, Relu, "
         "MaxPool, Gemm, MatMul, Flatten, GlobalAveragePool, Pad, Mul, Add, Dropout, Identity)");
  }

  void pend_conv(Layer<T>& conv, int i) {
    pend(conv, 0, i, 1);
    if (OnnxGraph::has_input(node(i), 2)) pend(conv, 1, i, 2);
  }
  BatchNormOptions batch_norm_options(int i, bool relu) const {
    check(node(i).input_size() == 5, label(i), ": needs 5 inputs (X, scale, B, mean, var)");
    check(onnx_int_attribute(node(i), "training_mode", 0) == 0, label(i),
          ": training_mode 1 is not an inference graph");
    BatchNormOptions o;
    o.epsilon = onnx_float_as_decimal(static_cast<float>(onnx_float_attribute(node(i), "epsilon", 1e-5)));
    o.momentum = onnx_float_as_decimal(static_cast<float>(onnx_float_attribute(node(i), "momentum", 0.9)));
    o.relu = relu;
    return o;
  }
  void pend_batch_norm(Layer<T>& bn, int i) {
    for (int k = 0; k < 4; ++k) pend(bn, k, i, k + 1);
  }

  std::string dense(Sequential<T>& seq, int i, const std::string& name, Shape& shape) {
    const auto& n = node(i);
    check(shape.rank() == 1, label(i), ": needs a [N, features] input (Flatten first), got [N,", shape.str().substr(1));
    check(!g_.is_constant(n, 0) && g_.is_constant(n, 1), label(i),
          ": needs the data as input A and an initializer as B");
    OnnxTensorValues b = g_.constant(n, 1);
    check(b.dims.size() == 2, label(i), ": B has shape ", b.shape(), " (a matrix is needed)");
    const bool gemm = n.op_type() == "Gemm";
    check(!gemm || onnx_int_attribute(n, "transA", 0) == 0, label(i), ": transA 1 is not supported");
    if (gemm && onnx_int_attribute(n, "transB", 0) == 1) {  // B stored [units, features]
      OnnxTensorValues t{{b.dims[1], b.dims[0]}, b.values};
      for (std::int64_t r = 0; r < b.dims[0]; ++r)
        for (std::int64_t c = 0; c < b.dims[1]; ++c) t.values[c * b.dims[0] + r] = b.values[r * b.dims[1] + c];
      b = t;
    }
    const double alpha = gemm ? onnx_float_attribute(n, "alpha", 1) : 1,
                 beta = gemm ? onnx_float_attribute(n, "beta", 1) : 1;
    for (double& v : b.values) v *= alpha;
    const bool bias = gemm && OnnxGraph::has_input(n, 2);
    auto& d = add(seq, std::make_unique<Dense<T>>(static_cast<int>(b.dims[1]), bias), name);
    pending_.push_back({&d, 0, b, onnx_node_label(n) + " input '" + n.input(1) + "'"});
    if (bias) {
      OnnxTensorValues c = g_.constant(n, 2);
      check(static_cast<std::int64_t>(c.values.size()) == b.dims[1], label(i), ": C has shape ", c.shape(), ", not [",
            b.dims[1], "]");
      for (double& v : c.values) v *= beta;
      c.dims = {b.dims[1]};
      pending_.push_back({&d, 1, c, onnx_node_label(n) + " input '" + n.input(2) + "'"});
    }
    shape = Shape{b.dims[1]};
    return use(i);
  }

  std::string pad(Sequential<T>& seq, int i, const std::string& name, Shape& shape) {
    const auto& n = node(i);
    check(onnx_string_attribute(n, "mode", "constant") == "constant", label(i), ": mode '",
          onnx_string_attribute(n, "mode", "constant"), "' (tinynet pads with zeros only)");
    check(!g_.has_input(n, 2) || scalar_constant(i, 2) == 0, label(i), ": a non-zero constant_value");
    check(!g_.has_input(n, 3), label(i), ": the axes input is not supported");
    const OnnxTensorValues p = g_.constant(n, 1);
    check(shape.rank() == 3 && p.values.size() == 8 && p.values[0] == 0 && p.values[1] == 0 && p.values[4] == 0 &&
              p.values[5] == 0,
          label(i), ": tinynet pads [N, C, H, W] inputs along H and W only");
    for (double amount : p.values)
      check(amount >= 0 && amount <= (1 << 20), label(i), ": pad amount ", amount, " is outside [0, 2^20]");
    const auto v = [&](int k) { return static_cast<int>(p.values[static_cast<std::size_t>(k)]); };
    add(seq, std::make_unique<ZeroPadding2D<T>>(v(2), v(6), v(3), v(7)), name);
    shape = Shape{shape[0], shape[1] + v(2) + v(6), shape[2] + v(3) + v(7)};
    return use(i);
  }

  // ensures: Mul by a scalar [then Add of a scalar], or Add of a scalar, as a Rescaling.
  std::string rescaling(Sequential<T>& seq, int i, const std::string& name, const std::string& stop) {
    const auto scalar = [&](int k) {
      const auto& n = node(k);
      const int c = g_.is_constant(n, 1) ? 1 : 0;
      check(g_.is_constant(n, c) && !g_.is_constant(n, 1 - c), label(k), ": needs the data and a constant");
      return scalar_constant(k, c);
    };
    const bool mul = node(i).op_type() == "Mul";
    const int offset = mul ? only_follower(node(i).output(0), stop, "Add") : i;
    const bool offset_is_scalar = offset >= 0 && g_.node(offset).input_size() == 2 &&
                                  (g_.is_constant(node(offset), 0) || g_.is_constant(node(offset), 1));
    const double scale = mul ? scalar(i) : 1;
    const double shift = offset_is_scalar ? scalar(offset) : 0;
    add(seq, std::make_unique<Rescaling<T>>(scale, shift), name);
    use(i);
    return offset_is_scalar ? use(offset) : node(i).output(0);
  }

  // ensures: the residual block forking at `t` into nodes `next` imported; returns its output.
  std::string fork(Sequential<T>& seq, const std::string& t, const std::vector<int>& next, const std::string& stop,
                   const std::string& prefix, Shape& shape) {
    check(next.size() == 2, g_.where(), ": tensor '", t, "' feeds ", next.size(),
          " nodes; tinynet imports chains whose forks are residual blocks (two paths joined by an Add)");
    const int join = is_join(next[0]) ? next[0] : is_join(next[1]) ? next[1] : -1;
    if (join >= 0) {  // Add(t, branch(t)): an identity shortcut
      const int start = next[0] == join ? next[1] : next[0];
      check(start != join && !is_join(start), label(join), ": adds tensor '", t, "' to itself");
      std::string out;
      if (bottleneck(seq, linear_path(start, join), {}, join, stop, prefix, shape, out)) return out;
      const auto& add_node = node(join);
      const std::string branch_end = add_node.input(0) == t ? add_node.input(1) : add_node.input(0);
      const std::string block = name_of(join, prefix), block_prefix = prefix + block + "/";
      std::string branch_name = name_of(start, block_prefix);
      if (node(start).name().find('/', block_prefix.size() + branch_name.size()) == std::string::npos) branch_name = "";
      auto branch = std::make_unique<Sequential<T>>(branch_name);
      const std::string inner_prefix = block_prefix + (branch_name.empty() ? "" : branch_name + "/");
      chain(*branch, t, branch_end, inner_prefix, shape, join);
      add(seq, std::make_unique<Residual<T>>(std::move(branch)), block);
      return use(join);
    }
    int join_a = -1, join_b = -1;
    const std::vector<int> a = linear_path(next[0], -1, &join_a), b = linear_path(next[1], -1, &join_b);
    std::string out;
    check(join_a >= 0 && join_a == join_b &&
              bottleneck(seq, a.size() >= b.size() ? a : b, a.size() >= b.size() ? b : a, join_a, stop, prefix, shape,
                         out),
          g_.where(), ": the two paths from tensor '", t,
          "' are not a ResNet bottleneck (tinynet imports residual blocks with an identity shortcut, bottlenecks, "
          "and GELU's exact erf form)");
    return out;
  }

  // ensures: the nodes from `start` on, each the only reader of the previous one's output, up to
  // (without) `until`, or a join when `until` is -1 (stored in *join); empty when there is no
  // such path of at most 8 nodes.
  std::vector<int> linear_path(int start, int until, int* join = nullptr) const {
    std::vector<int> path;
    for (int i = start; path.size() < 8;) {
      path.push_back(i);
      const auto next = g_.consumers(node(i).output(0));
      if (next.size() != 1) return {};
      if (next[0] == until || (until < 0 && is_join(next[0]))) {
        if (join) *join = next[0];
        return path;
      }
      i = next[0];
    }
    return {};
  }

  // ensures: true and the Bottleneck imported (out: its output) when main/shortcut/join and a
  // Relu after the join have exactly the bottleneck's form; false (nothing changed) otherwise.
  bool bottleneck(Sequential<T>& seq, const std::vector<int>& main, const std::vector<int>& shortcut, int join,
                  const std::string& stop, const std::string& prefix, Shape& shape, std::string& out) {
    const auto ops = [&](const std::vector<int>& path) {
      std::string s;
      for (int i : path) s += node(i).op_type() + " ";
      return s;
    };
    const int relu = only_follower(node(join).output(0), stop, "Relu");
    if (relu < 0 || ops(main) != "Conv BatchNormalization Relu Conv BatchNormalization Relu Conv BatchNormalization " ||
        (ops(shortcut) != "" && ops(shortcut) != "Conv BatchNormalization "))
      return false;
    const OnnxWindow a = read_onnx_window(g_, main[0], shape), b = read_onnx_window(g_, main[3], a.output),
                     c = read_onnx_window(g_, main[6], b.output);
    const std::int64_t f = a.filters;
    const bool projection = !shortcut.empty();
    bool fits = a.kh == 1 && a.kw == 1 && a.sh == a.sw && a.padding == Padding::valid && b.kh == 3 && b.kw == 3 &&
                b.sh == 1 && b.sw == 1 && b.padding == Padding::same && b.filters == f && c.kh == 1 && c.kw == 1 &&
                c.sh == 1 && c.sw == 1 && c.padding == Padding::valid && c.filters == 4 * f && a.bias == b.bias &&
                b.bias == c.bias;
    if (fits && projection) {
      const OnnxWindow s = read_onnx_window(g_, shortcut[0], shape);
      fits = s.kh == 1 && s.kw == 1 && s.sh == a.sh && s.sw == a.sh && s.padding == Padding::valid &&
             s.filters == 4 * f && s.bias == a.bias;
    }
    if (!fits || (!projection && (a.sh != 1 || shape[0] != 4 * f))) return false;
    std::vector<int> norms{main[1], main[4], main[7]};
    if (projection) norms.push_back(shortcut[1]);
    const BatchNormOptions bn = batch_norm_options(main[1], false);
    for (int i : norms) {
      const BatchNormOptions o = batch_norm_options(i, false);
      if (o.epsilon != bn.epsilon || o.momentum != bn.momentum) return false;
    }
    BottleneckOptions options;
    options.stride = a.sh;
    options.projection = projection;
    options.conv_bias = a.bias;
    options.batch_norm = bn;
    auto& block = add(seq, std::make_unique<Bottleneck<T>>(static_cast<int>(f), options), name_of(join, prefix));
    const std::vector<int> convs{main[0], main[3], main[6]};
    for (std::size_t k = 0; k < 3; ++k) {
      pend_conv(block.layer(2 * k), convs[k]);
      pend_batch_norm(block.layer(2 * k + 1), norms[k]);
    }
    if (projection) {
      pend_conv(block.layer(6), shortcut[0]);
      pend_batch_norm(block.layer(7), shortcut[1]);
    }
    for (int i : main) use(i);
    for (int i : shortcut) use(i);
    use(join);
    shape = c.output;
    out = use(relu);
    return true;
  }

  const OnnxGraph& g_;
  std::vector<bool> used_;
  std::vector<Pending> pending_;
  std::map<const Sequential<T>*, std::set<std::string>> names_;
};

}  // namespace detail

// requires: `model` an ONNX model of the form the header comment describes; `where` names it
// in errors (the file). ensures: the imported model, built, its weights set, in training mode
// (set_training(false) for inference). An Error naming `where`, the node and its op otherwise.
template <class T>
OnnxImport<T> from_onnx(const onnx::ModelProto& model, const std::string& where) {
  const OnnxGraph g(model, where);
  OnnxImport<T> result;
  result.input_name = g.input_name();
  result.output_name = g.output_name();
  result.input_sample_shape = g.input_sample_shape();
  result.model = std::make_unique<Sequential<T>>(model.graph().name());
  detail::OnnxModelReader<T> reader(g);
  std::string t = g.input_name();
  for (const auto& kv : model.metadata_props())
    if (kv.key() == onnx_preprocessing_key) {
      result.preprocessing = parse_onnx_preprocessing(kv.value(), where);
      t = reader.skip_preprocessing(t);
    }
  try {
    reader.chain(*result.model, t, g.output_name(), "", g.input_sample_shape());
  } catch (const Error& e) {  // a layer refused its settings: name the file too
    if (std::string(e.what()).rfind(where, 0) == 0) throw;
    fail(where, ": ", e.what());
  }
  try {
    result.model->setup(g.input_sample_shape());
  } catch (const Error& e) {
    fail(where, ": the imported layers do not fit the input ", g.input_sample_shape(), ": ", e.what());
  }
  reader.load_parameters();
  return result;
}

// requires: `path` an ONNX file (see from_onnx). ensures: from_onnx of its contents; an Error
// naming the file when it cannot be read or parsed (truncated, not ONNX).
template <class T>
OnnxImport<T> load_onnx(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  check(in.good(), "ONNX import: cannot open '", path, "'");
  onnx::ModelProto model;
  check(model.ParseFromIstream(&in), path, ": not a valid ONNX protobuf message (truncated or not an ONNX file)");
  check(model.has_graph(), path, ": the ONNX model has no graph");
  return from_onnx<T>(model, path);
}

}  // namespace tinynet
