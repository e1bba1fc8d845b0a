#!/usr/bin/python3
"""Writes tests/fixtures/onnx_foreign/: an ONNX model that tinynet did not write, for the import test.

Usage: tests/reference/foreign_onnx_model.py [OUT_FOLDER]   (default: tests/fixtures/onnx_foreign)
The graph is built with onnx.helper in the forms other exporters use and tinynet's export does
not: opset 15, double, a symbolic batch named "batch", Conv without kernel_shape and with
auto_pad SAME_UPPER (an uneven split at this size), default BatchNormalization attributes, a residual block, Dropout with a
ratio input, Gemm with transB, alpha and beta, Identity, Mul and Add by scalars. It writes
model.onnx, input_0.pb and output_0.pb, the output computed by tests/onnx_reference.py's numpy
evaluator (float64), not by tinynet.
"""
import os
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import onnx_reference  # noqa: E402  (the numpy evaluator)

rng = np.random.default_rng(20)
inits = []


def const(name, array):
    inits.append(numpy_helper.from_array(np.asarray(array, dtype=np.float64), name))
    return name


def uniform(*shape, lo=-0.5, hi=0.5):
    return rng.uniform(lo, hi, size=shape)


nodes = [
    helper.make_node("Conv", ["x", const("stem.w", uniform(4, 3, 3, 3)), const("stem.b", uniform(4))], ["c1"],
                     name="stem", auto_pad="SAME_UPPER", strides=[2, 2]),
    helper.make_node("BatchNormalization", ["c1", const("bn.scale", uniform(4, lo=0.5, hi=1.5)),
                                            const("bn.bias", uniform(4)), const("bn.mean", uniform(4)),
                                            const("bn.var", uniform(4, lo=0.5, hi=1.5))], ["b1"], name="bn"),
    helper.make_node("Relu", ["b1"], ["r1"], name="bn_relu"),
    helper.make_node("Conv", ["r1", const("block.conv1.w", uniform(4, 4, 3, 3))], ["k1"], name="block/conv1",
                     pads=[1, 1, 1, 1]),
    helper.make_node("Relu", ["k1"], ["k2"], name="block/relu"),
    helper.make_node("Conv", ["k2", const("block.conv2.w", uniform(4, 4, 1, 1)),
                              const("block.conv2.b", uniform(4))], ["k3"], name="block/conv2"),
    helper.make_node("Add", ["r1", "k3"], ["s"], name="block/add"),
    helper.make_node("MaxPool", ["s"], ["p"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
    helper.make_node("Flatten", ["p"], ["f"], name="flatten", axis=1),
    helper.make_node("Dropout", ["f", const("drop.ratio", 0.3)], ["d"], name="drop"),
    helper.make_node("Gemm", ["d", const("fc.w", uniform(5, 24)), const("fc.b", uniform(5))], ["g"], name="fc",
                     transB=1, alpha=0.5, beta=2.0),
    helper.make_node("Identity", ["g"], ["i"], name="same"),
    helper.make_node("Mul", ["i", const("scale.value", 0.25)], ["m"], name="scale"),
    helper.make_node("Add", ["m", const("scale.offset", 1.0)], ["y"], name="scale_offset"),
]
graph = helper.make_graph(nodes, "foreign", [helper.make_tensor_value_info("x", TensorProto.DOUBLE, ["batch", 3, 10, 11])],
                          [helper.make_tensor_value_info("y", TensorProto.DOUBLE, ["batch", 5])], inits)
model = helper.make_model(graph, producer_name="onnx.helper", opset_imports=[helper.make_opsetid("", 15)])
model.ir_version = 8
onnx.checker.check_model(model, full_check=True)

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                                           "fixtures", "onnx_foreign")
os.makedirs(out, exist_ok=True)
x = rng.uniform(-1, 1, size=(2, 3, 10, 11))
y = onnx_reference.run(model, x)
onnx.save(model, os.path.join(out, "model.onnx"))
with open(os.path.join(out, "input_0.pb"), "wb") as f:
    f.write(numpy_helper.from_array(x, "x").SerializeToString())
with open(os.path.join(out, "output_0.pb"), "wb") as f:
    f.write(numpy_helper.from_array(y, "y").SerializeToString())
print(f"wrote {out}: {len(nodes)} nodes, output {y.shape}")
