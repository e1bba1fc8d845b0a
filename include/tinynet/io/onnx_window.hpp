// tinynet/io/onnx_window.hpp: the window of an ONNX Conv or MaxPool node (kernel, strides,
// padding), read as tinynet's Conv2D and MaxPool2D express it, for an input of known shape.
//
// Padding: 'same' when the pads are TensorFlow's split for that input (auto_pad SAME_UPPER is
// that split too), 'valid' when they are zero (auto_pad VALID), else explicit amounts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tinynet/backend/conv_geometry.hpp"
#include "tinynet/io/onnx_graph.hpp"

namespace tinynet {

struct OnnxWindow {
  std::int64_t filters = 0;  // a Conv's output channels; a MaxPool's channels
  int kh = 1, kw = 1, sh = 1, sw = 1;
  Padding padding = Padding::valid;
  ExplicitPadding pads;  // with Padding::explicit_amounts
  bool bias = false;     // a Conv with its bias input
  Shape output;          // [filters, OH, OW]
};

// requires: node i of g a Conv (2-D weights as its initializer input 1) or a MaxPool; `in` its
// input's [C, H, W]. ensures: its window; an Error naming the node for grouped or dilated
// windows, auto_pad SAME_LOWER, or a window that does not fit the input.
inline OnnxWindow read_onnx_window(const OnnxGraph& g, int i, const Shape& in) {
  const onnx::NodeProto& n = g.node(i);
  const std::string label = g.where() + ": " + onnx_node_label(n);
  check(in.rank() == 3, label, ": needs a [C, H, W] input, got ", in);
  OnnxWindow w;
  std::vector<std::int64_t> kernel;
  if (n.op_type() == "Conv") {
    const OnnxTensorValues weights = g.constant(n, 1);
    check(weights.dims.size() == 4, label, ": weights of shape ", weights.shape(),
          " (tinynet imports 2-D convolutions)");
    check(onnx_int_attribute(n, "group", 1) == 1, label, ": group ", onnx_int_attribute(n, "group", 1),
          " (tinynet imports group 1 only)");
    w.filters = weights.dims[0];
    w.bias = OnnxGraph::has_input(n, 2);
    kernel = onnx_ints_attribute(n, "kernel_shape", {weights.dims[2], weights.dims[3]});
    check(kernel == std::vector<std::int64_t>{weights.dims[2], weights.dims[3]}, label,
          ": kernel_shape differs from the weights' ", weights.shape());
  } else {
    w.filters = in[0];
    kernel = onnx_ints_attribute(n, "kernel_shape", {});
  }
  const auto strides = onnx_ints_attribute(n, "strides", {1, 1});
  const auto dilations = onnx_ints_attribute(n, "dilations", {1, 1});
  const auto pads = onnx_ints_attribute(n, "pads", {0, 0, 0, 0});
  const std::string auto_pad = onnx_string_attribute(n, "auto_pad", "NOTSET");
  check(kernel.size() == 2 && strides.size() == 2 && pads.size() == 4, label,
        ": needs 2-D kernel_shape and strides and 4 pads");
  check(dilations == std::vector<std::int64_t>{1, 1}, label, ": dilations other than 1 are not supported");
  check(auto_pad == "NOTSET" || auto_pad == "VALID" || auto_pad == "SAME_UPPER", label, ": auto_pad ", auto_pad,
        " is not supported (NOTSET, VALID, SAME_UPPER are)");
  w.kh = static_cast<int>(kernel[0]);
  w.kw = static_cast<int>(kernel[1]);
  w.sh = static_cast<int>(strides[0]);
  w.sw = static_cast<int>(strides[1]);
  const ConvGeometry same =
      make_conv_geometry(label.c_str(), in[0], in[1], in[2], w.filters, w.kh, w.kw, w.sh, w.sw, Padding::same);
  const bool zero = auto_pad == "VALID" || (auto_pad == "NOTSET" && pads == std::vector<std::int64_t>{0, 0, 0, 0});
  const bool tf_same = auto_pad == "SAME_UPPER" ||
                       (auto_pad == "NOTSET" && pads == std::vector<std::int64_t>{same.pad_top, same.pad_left,
                                                                                  same.pad_bottom, same.pad_right});
  w.padding = tf_same && !zero ? Padding::same : zero ? Padding::valid : Padding::explicit_amounts;
  if (w.padding == Padding::explicit_amounts)
    w.pads = ExplicitPadding{static_cast<int>(pads[0]), static_cast<int>(pads[2]), static_cast<int>(pads[1]),
                             static_cast<int>(pads[3])};
  const ConvGeometry out =
      make_conv_geometry(label.c_str(), in[0], in[1], in[2], w.filters, w.kh, w.kw, w.sh, w.sw, w.padding, w.pads);
  w.output = Shape{w.filters, out.out_h, out.out_w};
  return w;
}

}  // namespace tinynet
