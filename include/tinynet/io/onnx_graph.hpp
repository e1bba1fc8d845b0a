// tinynet/io/onnx_graph.hpp: an ONNX model's graph, checked and indexed for tinynet's import.
//
// OnnxGraph(model, where) checks what the import relies on, naming `where` (the file) and the
// node or tensor at fault: a default-domain opset tinynet reads (13..17), one data input of
// static [N, C, ...] shape (the batch may be symbolic) and float or double elements, one
// output, and every node input either the graph input, an initializer, or an earlier node's
// output. It then answers: which nodes consume a tensor, and what constant an input holds.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "tinynet/io/onnx_proto.hpp"

namespace tinynet {

class OnnxGraph {
 public:
  // requires: `model` outlives this object. ensures: the checks of the header comment passed.
  OnnxGraph(const onnx::ModelProto& model, std::string where) : model_(model), where_(std::move(where)) {
    check_opset();
    const onnx::GraphProto& g = model.graph();
    for (const auto& init : g.initializer()) initializers_[init.name()] = &init;
    for (const auto& in : g.input())
      if (!initializers_.count(in.name())) {
        check(input_name_.empty(), where_, ": the graph has two data inputs, '", input_name_, "' and '", in.name(),
              "' (tinynet models take one)");
        input_name_ = in.name();
        read_input_type(in);
      }
    check(!input_name_.empty(), where_, ": the graph has no data input (every input is an initializer)");
    check(g.output_size() == 1, where_, ": the graph has ", g.output_size(), " outputs (tinynet models have one)");
    output_name_ = g.output(0).name();
    std::set<std::string> known{input_name_};
    for (const auto& kv : initializers_) known.insert(kv.first);
    for (int i = 0; i < g.node_size(); ++i) {
      const onnx::NodeProto& n = g.node(i);
      check(n.output_size() >= 1 && !n.output(0).empty(), where_, ": ", onnx_node_label(n), " has no output");
      for (const auto& in : n.input()) {
        if (in.empty()) continue;  // an omitted optional input
        check(known.count(in) > 0, where_, ": ", onnx_node_label(n), ": input '", in,
              "' is neither the graph input, an initializer nor an earlier node's output (a missing initializer?)");
        auto& users = consumers_[in];
        if (users.empty() || users.back() != i) users.push_back(i);
      }
      for (const auto& out : n.output())
        check(out.empty() || known.insert(out).second, where_, ": ", onnx_node_label(n), ": output '", out,
              "' is already defined (ONNX graphs assign each tensor once)");
    }
    check(known.count(output_name_) > 0, where_, ": no node computes the graph output '", output_name_, "'");
  }

  const std::string& where() const { return where_; }
  const onnx::ModelProto& model() const { return model_; }
  int node_count() const { return model_.graph().node_size(); }
  const onnx::NodeProto& node(int i) const { return model_.graph().node(i); }
  const std::string& input_name() const { return input_name_; }
  const std::string& output_name() const { return output_name_; }
  // ensures: the input's shape without the batch dimension, e.g. [3, 32, 32].
  const Shape& input_sample_shape() const { return input_sample_shape_; }

  // ensures: the indices of the nodes reading `tensor`, in graph order, each once.
  std::vector<int> consumers(const std::string& tensor) const {
    auto it = consumers_.find(tensor);
    return it == consumers_.end() ? std::vector<int>{} : it->second;
  }
  // ensures: whether input `k` of `n` is given (optional inputs may be omitted).
  static bool has_input(const onnx::NodeProto& n, int k) { return n.input_size() > k && !n.input(k).empty(); }
  // ensures: whether input `k` of `n` is an initializer.
  bool is_constant(const onnx::NodeProto& n, int k) const {
    return has_input(n, k) && initializers_.count(n.input(k)) > 0;
  }
  // ensures: the values of input `k` of `n`; an Error naming the node when that input is
  // absent or not an initializer (tinynet takes weights only from initializers).
  OnnxTensorValues constant(const onnx::NodeProto& n, int k) const {
    check(has_input(n, k), where_, ": ", onnx_node_label(n), " lacks its input ", k);
    check(is_constant(n, k), where_, ": ", onnx_node_label(n), ": input ", k, " '", n.input(k),
          "' is computed by the graph; tinynet imports it only as an initializer");
    return read_onnx_tensor(*initializers_.at(n.input(k)), where_ + ": " + onnx_node_label(n));
  }
  // ensures: an Error naming the node unless only its first output is used.
  void check_single_output(const onnx::NodeProto& n) const {
    for (int k = 1; k < n.output_size(); ++k)
      check(n.output(k).empty() || (consumers(n.output(k)).empty() && n.output(k) != output_name_), where_, ": ",
            onnx_node_label(n), ": its output ", k, " '", n.output(k), "' is used (tinynet computes only the first)");
  }

 private:
  void check_opset() {
    std::int64_t version = -1;
    for (const auto& op : model_.opset_import())
      if (op.domain().empty() || op.domain() == "ai.onnx") version = op.version();
    check(version >= 0, where_, ": the model imports no default-domain (ai.onnx) opset");
    check(version >= onnx_oldest_opset_read && version <= onnx_newest_opset_read, where_, ": opset ", version,
          " (tinynet reads opsets ", onnx_oldest_opset_read, " to ", onnx_newest_opset_read,
          "; convert the model with onnx.version_converter)");
  }
  void read_input_type(const onnx::ValueInfoProto& in) {
    check(in.type().has_tensor_type(), where_, ": input '", in.name(), "' is not a tensor");
    const auto& t = in.type().tensor_type();
    check(t.elem_type() == onnx::TensorProto_DataType_FLOAT || t.elem_type() == onnx::TensorProto_DataType_DOUBLE,
          where_, ": input '", in.name(), "' has element type ", t.elem_type(), " (tinynet reads float or double)");
    check(t.has_shape() && t.shape().dim_size() >= 2, where_, ": input '", in.name(),
          "' needs a known shape [N, C, ...] of rank >= 2");
    std::vector<std::int64_t> dims;
    std::int64_t per_sample = 1;
    for (int i = 1; i < t.shape().dim_size(); ++i) {
      const auto& d = t.shape().dim(i);
      check(d.has_dim_value() && d.dim_value() > 0, where_, ": input '", in.name(), "' dimension ", i,
            " is not a fixed positive size (only the batch dimension may be symbolic)");
      check(d.dim_value() <= (std::int64_t(1) << 31) / per_sample, where_, ": input '", in.name(),
            "' has over 2^31 values per sample");
      per_sample *= d.dim_value();
      dims.push_back(d.dim_value());
    }
    input_sample_shape_ = Shape(dims);
  }

  const onnx::ModelProto& model_;
  std::string where_;
  std::map<std::string, const onnx::TensorProto*> initializers_;
  std::map<std::string, std::vector<int>> consumers_;
  std::string input_name_, output_name_;
  Shape input_sample_shape_;
};

}  // namespace tinynet
