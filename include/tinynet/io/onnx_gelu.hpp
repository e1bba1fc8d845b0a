// tinynet/io/onnx_gelu.hpp: GELU in ONNX graphs of opsets 13..17, which have no Gelu operator.
//
// tinynet writes GELU as its exact erf form, the nodes PyTorch's exporter emits for nn.GELU():
//   s = Div(x, sqrt(2));  e = Erf(s);  a = Add(e, 1);  m = Mul(x, a);  y = Mul(m, 0.5)
// onnx_gelu_nodes() finds that form for the import: Div by sqrt(2) or Mul by 1/sqrt(2) first,
// either operand order in the Add and the Muls, every constant a one-number initializer
// (matched to 1e-6 relative), and no other node reading x or the intermediate tensors.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "tinynet/io/onnx_graph.hpp"

namespace tinynet {

namespace detail {

// ensures: the index (0 or 1) of the input of binary node n that is a one-number initializer
// within 1e-6 relative of `value`, the other input being `data` ("" accepts any); -1 otherwise.
inline int onnx_constant_operand(const OnnxGraph& g, const onnx::NodeProto& n, double value,
                                 const std::string& data = "") {
  if (n.input_size() != 2) return -1;
  for (int k = 0; k < 2; ++k) {
    if (!g.is_constant(n, k) || (!data.empty() && n.input(1 - k) != data)) continue;
    const OnnxTensorValues v = g.constant(n, k);
    if (v.values.size() == 1 && std::abs(v.values[0] - value) <= 1e-6 * std::abs(value)) return k;
  }
  return -1;
}

// ensures: the node that alone reads `tensor`, when it has op type `op`; -1 otherwise.
inline int onnx_sole_reader(const OnnxGraph& g, const std::string& tensor, const char* op) {
  const std::vector<int> readers = g.consumers(tensor);
  return readers.size() == 1 && g.node(readers[0]).op_type() == op ? readers[0] : -1;
}

}  // namespace detail

// ensures: the indices {s, e, a, m, y} of the erf form of GELU applied to tensor x, when the
// nodes reading x are exactly its s and m; empty otherwise.
inline std::vector<int> onnx_gelu_nodes(const OnnxGraph& g, const std::string& x) {
  const std::vector<int> readers = g.consumers(x);
  if (readers.size() != 2) return {};
  for (int first = 0; first < 2; ++first) {
    const int s = readers[first], m = readers[1 - first];
    const onnx::NodeProto& scale = g.node(s);
    const bool divides = scale.op_type() == "Div" && scale.input_size() == 2 && scale.input(0) == x &&
                         detail::onnx_constant_operand(g, scale, std::sqrt(2.0), x) == 1;
    const bool multiplies = scale.op_type() == "Mul" && detail::onnx_constant_operand(g, scale, std::sqrt(0.5), x) >= 0;
    if (!divides && !multiplies) continue;
    const int e = detail::onnx_sole_reader(g, scale.output(0), "Erf");
    if (e < 0) return {};
    const int a = detail::onnx_sole_reader(g, g.node(e).output(0), "Add");
    if (a < 0 || detail::onnx_constant_operand(g, g.node(a), 1.0, g.node(e).output(0)) < 0) return {};
    const onnx::NodeProto& times_x = g.node(m);
    const std::string& plus_one = g.node(a).output(0);
    const bool mul_x = times_x.op_type() == "Mul" && times_x.input_size() == 2 &&
                       ((times_x.input(0) == x && times_x.input(1) == plus_one) ||
                        (times_x.input(1) == x && times_x.input(0) == plus_one));
    if (!mul_x || g.consumers(plus_one).size() != 1) return {};
    const int y = detail::onnx_sole_reader(g, times_x.output(0), "Mul");
    if (y < 0 || detail::onnx_constant_operand(g, g.node(y), 0.5, times_x.output(0)) < 0) return {};
    return {s, e, a, m, y};
  }
  return {};
}

}  // namespace tinynet
