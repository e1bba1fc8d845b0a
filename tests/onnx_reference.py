#!/usr/bin/python3
"""Checks tinynet's exported ONNX files without trusting tinynet twice.

Usage: onnx_reference.py FOLDER
FOLDER holds one sub-folder per case (written by test_onnx "[onnx_files]"): model.onnx,
input_0.pb and output_0.pb (tinynet's eval-mode output for that input). For each case:
  1. onnx.checker.check_model(model, full_check=True) (structure, types, shape inference);
  2. the graph runs in the small numpy evaluator below, written from the ONNX operator
     specifications (https://onnx.ai/onnx/operators/), in float64;
  3. max |numpy - tinynet| <= rtol * max |numpy|, rtol 1e-5 for double models, 1e-4 for float.
Exit 0 when every case passes, 1 otherwise, 77 (ctest's skip) when numpy or onnx is missing.
"""
import math
import os
import sys

try:
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper
except ImportError as missing:
    print(f"SKIPPED: /usr/bin/python3 lacks numpy or onnx ({missing}); "
          "install python3-numpy python3-onnx (cmake/install_deps.sh tests)")
    sys.exit(77)


def attributes(node):
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def window_pads(attrs, sizes, kernel, strides):
    """pads as [(begin, end)] per spatial axis: explicit (auto_pad NOTSET), VALID, or SAME_UPPER
    (output ceil(in / stride), total padding max((out - 1) * stride + kernel - in, 0), the odd
    cell at the end)."""
    auto_pad = attrs.get("auto_pad", b"NOTSET")
    auto_pad = auto_pad.decode() if isinstance(auto_pad, bytes) else auto_pad
    spatial = len(sizes)
    if auto_pad == "VALID":
        return [(0, 0)] * spatial
    if auto_pad == "SAME_UPPER":
        pads = []
        for n, k, s in zip(sizes, kernel, strides):
            total = max((-(-n // s) - 1) * s + k - n, 0)
            pads.append((total // 2, total - total // 2))
        return pads
    if auto_pad != "NOTSET":
        raise ValueError(f"auto_pad {auto_pad} not implemented by this evaluator")
    pads = list(attrs.get("pads", [0] * (2 * spatial)))
    return [(pads[i], pads[i + spatial]) for i in range(spatial)]


def conv(x, w, b, attrs):
    # Conv: Y[n, o, i, j] = B[o] + sum_{c, u, v} X[n, c, i*s + u - pad, j*s + v - pad] W[o, c, u, v]
    assert attrs.get("group", 1) == 1 and list(attrs.get("dilations", [1, 1])) == [1, 1]
    sh, sw = attrs.get("strides", [1, 1])
    kh, kw = w.shape[2:]
    (pt, pb), (pl, pr) = window_pads(attrs, x.shape[2:], (kh, kw), (sh, sw))
    x = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    oh = (x.shape[2] - kh) // sh + 1
    ow = (x.shape[3] - kw) // sw + 1
    y = np.zeros((x.shape[0], w.shape[0], oh, ow))
    for u in range(kh):
        for v in range(kw):
            patch = x[:, :, u:u + sh * (oh - 1) + 1:sh, v:v + sw * (ow - 1) + 1:sw]
            y += np.einsum("nchw,oc->nohw", patch, w[:, :, u, v])
    if b is not None:
        y += b.reshape(1, -1, 1, 1)
    return y


def max_pool(x, attrs):
    # MaxPool: the maximum over each window; padded cells never win (they are -inf).
    assert attrs.get("ceil_mode", 0) == 0 and list(attrs.get("dilations", [1, 1])) == [1, 1]
    kh, kw = attrs["kernel_shape"]
    sh, sw = attrs.get("strides", [1, 1])
    (pt, pb), (pl, pr) = window_pads(attrs, x.shape[2:], (kh, kw), (sh, sw))
    x = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)), constant_values=-np.inf)
    oh = (x.shape[2] - kh) // sh + 1
    ow = (x.shape[3] - kw) // sw + 1
    y = np.full((x.shape[0], x.shape[1], oh, ow), -np.inf)
    for u in range(kh):
        for v in range(kw):
            y = np.maximum(y, x[:, :, u:u + sh * (oh - 1) + 1:sh, v:v + sw * (ow - 1) + 1:sw])
    return y


def channel(v, rank):
    return v.reshape((1, -1) + (1,) * (rank - 2))


def batch_norm(x, scale, bias, mean, var, attrs):
    # BatchNormalization (inference): Y = (X - mean) / sqrt(var + epsilon) * scale + B
    eps = attrs.get("epsilon", 1e-5)
    r = x.ndim
    return (x - channel(mean, r)) / np.sqrt(channel(var, r) + eps) * channel(scale, r) + channel(bias, r)


def gemm(a, b, c, attrs):
    # Gemm: Y = alpha * A' B' + beta * C
    if attrs.get("transA", 0):
        a = a.T
    if attrs.get("transB", 0):
        b = b.T
    y = attrs.get("alpha", 1.0) * (a @ b)
    return y if c is None else y + attrs.get("beta", 1.0) * c


def pad(x, pads, value, attrs):
    # Pad (opset >= 11): pads = [x1_begin, x2_begin, ..., x1_end, x2_end, ...], constant mode
    assert attrs.get("mode", b"constant") in (b"constant", "constant")
    r = x.ndim
    pads = [int(p) for p in pads]
    return np.pad(x, [(pads[i], pads[i + r]) for i in range(r)],
                  constant_values=0 if value is None else float(value))


def flatten(x, attrs):
    axis = attrs.get("axis", 1)
    return x.reshape(int(np.prod(x.shape[:axis])), -1)


def run(model, x):
    """Evaluates the graph in float64; returns its only output."""
    values = {i.name: numpy_helper.to_array(i).astype(np.float64) if i.data_type != onnx.TensorProto.INT64
              else numpy_helper.to_array(i) for i in model.graph.initializer}
    values[model.graph.input[0].name] = x.astype(np.float64)
    for node in model.graph.node:
        a = attributes(node)
        ins = [values[n] if n else None for n in node.input] + [None] * 3
        op = node.op_type
        if op == "Conv":
            y = conv(ins[0], ins[1], ins[2], a)
        elif op == "BatchNormalization":
            y = batch_norm(*ins[:5], a)
        elif op == "Relu":
            y = np.maximum(ins[0], 0)
        elif op == "MaxPool":
            y = max_pool(ins[0], a)
        elif op == "Gemm":
            y = gemm(ins[0], ins[1], ins[2], a)
        elif op == "MatMul":
            y = ins[0] @ ins[1]
        elif op == "Flatten":
            y = flatten(ins[0], a)
        elif op == "GlobalAveragePool":
            y = ins[0].mean(axis=tuple(range(2, ins[0].ndim)), keepdims=True)
        elif op == "Add":
            y = ins[0] + ins[1]
        elif op == "Mul":
            y = ins[0] * ins[1]
        elif op == "Div":
            y = ins[0] / ins[1]
        elif op == "Erf":
            y = np.vectorize(math.erf)(ins[0])
        elif op == "Pad":
            y = pad(ins[0], ins[1], ins[2], a)
        elif op == "Gather":
            y = np.take(ins[0], ins[1].astype(np.int64), axis=a.get("axis", 0))
        elif op in ("Dropout", "Identity"):
            y = ins[0]
        else:
            raise ValueError(f"node {node.name!r}: op {op} not implemented by this evaluator")
        values[node.output[0]] = y
    return values[model.graph.output[0].name]


def check_case(folder):
    model = onnx.load(os.path.join(folder, "model.onnx"))
    onnx.checker.check_model(model, full_check=True)
    names = [n.name for n in model.graph.node]
    assert all(names) and len(set(names)) == len(names), "node names must be present and unique"
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_param, "the batch dimension must be dynamic"
    read = lambda name: numpy_helper.to_array(onnx.load_tensor(os.path.join(folder, name)))
    x, expected = read("input_0.pb"), read("output_0.pb")
    actual = run(model, x)
    double = model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE
    rtol = 1e-5 if double else 1e-4
    assert actual.shape == expected.shape, f"shape {actual.shape}, tinynet {expected.shape}"
    error = float(np.max(np.abs(actual - expected)) / max(np.max(np.abs(actual)), 1e-30))
    return error, rtol, len(model.graph.node), [o.version for o in model.opset_import]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    root = sys.argv[1]
    cases = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
    if not cases:
        sys.exit(f"no cases in {root}")
    failed = 0
    for case in cases:
        try:
            error, rtol, nodes, opsets = check_case(os.path.join(root, case))
            ok = error <= rtol
            print(f"{'ok  ' if ok else 'FAIL'} {case}: checker passed, {nodes} nodes, opset {opsets}, "
                  f"max relative difference to numpy {error:.2e} (limit {rtol:g})")
        except Exception as e:  # a failed check, named with its case
            ok = False
            print(f"FAIL {case}: {type(e).__name__}: {e}")
        failed += 0 if ok else 1
    print(f"onnx_reference: {len(cases) - failed} of {len(cases)} cases passed (onnx {onnx.__version__})")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
