#!/usr/bin/python3
"""Independent numpy reference for Keras' ResNet50 (v1) with include_top=False, pooling='avg'.

Reads the legacy-named Keras weights file (shared/models/resnet50_imagenet_notop.h5) with
h5py, runs the forward pass in float64 NHWC with numpy only (no Keras, TensorFlow or torch),
and writes tests/fixtures/resnet50_reference.txt: for each of a few fixed inputs, statistics
and selected values of the 2048 pooled features, for tinynet's ResNet50 to be checked against.

Network (Keras applications/resnet50.py, legacy version, inference mode):
  ZeroPadding2D(3) -> conv1 7x7/2 valid (+bias) -> bn_conv1 -> relu
  -> ZeroPadding2D(1) -> MaxPooling2D 3x3/2 valid
  -> stages 2..5 of 3/4/6/3 bottleneck blocks a, b, c, ...:
       res{S}{B}_branch2a 1x1/stride -> bn -> relu -> _branch2b 3x3 'same' -> bn -> relu
       -> _branch2c 1x1 -> bn; shortcut: block a res{S}a_branch1 1x1/stride -> bn{S}a_branch1,
       other blocks identity; add -> relu. stride = 1 in stage 2, 2 in stages 3..5 (block a only).
  -> global average pooling -> 2048 features.
  BatchNormalization (inference): gamma * (x - moving_mean) / sqrt(moving_variance + 1e-3) + beta.
  Conv 'same' padding as TensorFlow: total = max((out - 1) * stride + k - in, 0), the odd pixel
  at the bottom/right.

Inputs (NHWC [height, width, 3], float64) are given in caffe-preprocessed space, i.e. what
conv1's zero padding receives (BGR order, ImageNet mean already subtracted):
  x[h][w][c] = AMPLITUDE * sin(freq * ((h * width + w) * 3 + c) + phase)
with (height, width, freq, phase) from INPUTS below.

Usage: /usr/bin/python3 tests/reference/resnet50_reference.py [--weights FILE] [--out FILE]
       [--verbose (per-stage statistics)] [--no-write]
"""

import argparse
import hashlib
import os
import sys
import time

import h5py
import numpy as np

AMPLITUDE = 100.0
INPUTS = [  # (height, width, freq, phase)
    (32, 32, 0.37, 0.0),
    (32, 32, 0.11, 1.0),
    (32, 32, 1.3, 2.0),
    (48, 48, 0.37, 0.5),
]
BN_EPSILON = 1e-3
STAGES = [(2, "abc", 1), (3, "abcd", 2), (4, "abcdef", 2), (5, "abc", 2)]  # (stage, blocks, stride)
FIRST_COUNT = 16
STRIDE_EVERY = 128
TOP_COUNT = 8

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED_DIR = os.environ.get("TINYNET_SHARED_DIR", os.path.join(HERE, "..", "..", "..", "shared"))
DEFAULT_WEIGHTS = os.path.normpath(os.path.join(SHARED_DIR, "models", "resnet50_imagenet_notop.h5"))
DEFAULT_OUT = os.path.normpath(os.path.join(HERE, "..", "fixtures", "resnet50_reference.txt"))


def make_input(height, width, freq, phase):
    """The input formula of the module docstring, as an [height, width, 3] float64 array."""
    i = np.arange(height * width * 3, dtype=np.float64)
    return (AMPLITUDE * np.sin(freq * i + phase)).reshape(height, width, 3)


def decode(name):
    return name.decode("utf8") if isinstance(name, bytes) else str(name)


def load_weights(path):
    """{layer: [arrays in weight_names order]} following Keras' layer_names / weight_names."""
    weights = {}
    with h5py.File(path, "r") as f:
        root = f if "layer_names" in f.attrs else f["model_weights"]
        for layer in map(decode, root.attrs["layer_names"]):
            group = root[layer]
            names = [decode(n) for n in group.attrs["weight_names"]]
            if names:
                weights[layer] = [np.asarray(group[n], dtype=np.float64) for n in names]
    return weights


# ---------------------------------------------------------------- operations (one image, HWC)

def zero_pad(x, before_h, after_h, before_w, after_w):
    return np.pad(x, ((before_h, after_h), (before_w, after_w), (0, 0)))


def same_padding(size, kernel, stride):
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def conv2d(x, kernel, bias, stride, padding):
    """x [H,W,Cin], kernel HWIO [kh,kw,Cin,Cout], 'valid' or 'same': im2col + one matmul."""
    kh, kw, cin, cout = kernel.shape
    assert x.shape[2] == cin, "conv2d: input has %d channels, kernel expects %d" % (x.shape[2], cin)
    if padding == "same":
        x = zero_pad(x, *same_padding(x.shape[0], kh, stride), *same_padding(x.shape[1], kw, stride))
    out_h = (x.shape[0] - kh) // stride + 1
    out_w = (x.shape[1] - kw) // stride + 1
    cols = np.empty((out_h, out_w, kh, kw, cin))
    for dy in range(kh):
        for dx in range(kw):
            cols[:, :, dy, dx, :] = x[dy:dy + stride * (out_h - 1) + 1:stride, dx:dx + stride * (out_w - 1) + 1:stride, :]
    out = cols.reshape(out_h * out_w, kh * kw * cin) @ kernel.reshape(kh * kw * cin, cout) + bias
    return out.reshape(out_h, out_w, cout)


def batch_norm(x, gamma, beta, mean, variance):
    return (x - mean) / np.sqrt(variance + BN_EPSILON) * gamma + beta


def relu(x):
    return np.maximum(x, 0.0)


def max_pool(x, size, stride):
    out_h = (x.shape[0] - size) // stride + 1
    out_w = (x.shape[1] - size) // stride + 1
    out = np.full((out_h, out_w, x.shape[2]), -np.inf)
    for dy in range(size):
        for dx in range(size):
            out = np.maximum(out, x[dy:dy + stride * (out_h - 1) + 1:stride, dx:dx + stride * (out_w - 1) + 1:stride, :])
    return out


# ---------------------------------------------------------------- the network

def conv_bn(x, weights, conv, bn, stride, padding):
    kernel, bias = weights[conv]
    return batch_norm(conv2d(x, kernel, bias, stride, padding), *weights[bn])


def bottleneck(x, weights, stage, block, stride):
    base = "%d%s" % (stage, block)
    y = relu(conv_bn(x, weights, "res%s_branch2a" % base, "bn%s_branch2a" % base, stride, "valid"))
    y = relu(conv_bn(y, weights, "res%s_branch2b" % base, "bn%s_branch2b" % base, 1, "same"))
    y = conv_bn(y, weights, "res%s_branch2c" % base, "bn%s_branch2c" % base, 1, "valid")
    if block == "a":
        shortcut = conv_bn(x, weights, "res%s_branch1" % base, "bn%s_branch1" % base, stride, "valid")
    else:
        shortcut = x
    return relu(y + shortcut)


def describe(name, x):
    print("  %-22s %-14s sum %-16.9g mean %-13.6g min %-13.6g max %.6g"
          % (name, "x".join(map(str, x.shape)), x.sum(), x.mean(), x.min(), x.max()))


def resnet50_features(x, weights, verbose=False):
    """The 2048 globally average-pooled features of one [H,W,3] caffe-preprocessed image."""
    show = describe if verbose else (lambda name, value: None)
    show("input", x)
    y = conv2d(zero_pad(x, 3, 3, 3, 3), *weights["conv1"], stride=2, padding="valid")
    show("conv1", y)
    y = relu(batch_norm(y, *weights["bn_conv1"]))
    show("bn_conv1+relu", y)
    y = max_pool(zero_pad(y, 1, 1, 1, 1), 3, 2)
    show("pool1", y)
    for stage, blocks, stride in STAGES:
        for block in blocks:
            y = bottleneck(y, weights, stage, block, stride if block == "a" else 1)
            show("res%d%s" % (stage, block), y)
    features = y.mean(axis=(0, 1))
    show("avg_pool", features)
    return features


# ---------------------------------------------------------------- self-checks

def naive_conv2d(x, kernel, bias, stride, padding):
    kh, kw, _, cout = kernel.shape
    if padding == "same":
        x = zero_pad(x, *same_padding(x.shape[0], kh, stride), *same_padding(x.shape[1], kw, stride))
    out_h, out_w = (x.shape[0] - kh) // stride + 1, (x.shape[1] - kw) // stride + 1
    out = np.zeros((out_h, out_w, cout))
    for oy in range(out_h):
        for ox in range(out_w):
            for o in range(cout):
                window = x[oy * stride:oy * stride + kh, ox * stride:ox * stride + kw, :]
                out[oy, ox, o] = np.sum(window * kernel[:, :, :, o]) + bias[o]
    return out


def self_check():
    """The fast operations against direct loops and hand-computed cases; raises on mismatch."""
    rng = np.random.default_rng(7)
    for size, k, stride, padding in [(7, 3, 1, "same"), (8, 3, 2, "same"), (9, 7, 2, "valid"),
                                     (6, 1, 2, "valid"), (5, 1, 1, "valid"), (6, 3, 2, "same")]:
        x = rng.standard_normal((size, size + 1, 3))
        kernel, bias = rng.standard_normal((k, k, 3, 4)), rng.standard_normal(4)
        fast, slow = conv2d(x, kernel, bias, stride, padding), naive_conv2d(x, kernel, bias, stride, padding)
        assert fast.shape == slow.shape and np.allclose(fast, slow, atol=1e-12), (size, k, stride, padding)
    assert same_padding(4, 2, 1) == (0, 1) and same_padding(5, 3, 2) == (1, 1) and same_padding(6, 3, 2) == (0, 1)
    x = np.arange(16.0).reshape(4, 4, 1)
    assert max_pool(x, 3, 2).ravel().tolist() == [10.0]
    assert max_pool(zero_pad(x, 1, 1, 1, 1), 3, 2).ravel().tolist() == [5.0, 7.0, 13.0, 15.0]
    y = batch_norm(np.array([[[3.0]]]), np.array([2.0]), np.array([1.0]), np.array([1.0]), np.array([4.0 - BN_EPSILON]))
    assert abs(y.item() - (2.0 * (3.0 - 1.0) / 2.0 + 1.0)) < 1e-12


def check_features(features):
    assert features.shape == (2048,), features.shape
    assert np.all(np.isfinite(features)), "non-finite features"
    assert np.all(features >= 0.0), "negative pooled feature after ReLU"
    assert features.max() > 0.0, "all features are zero"


# ---------------------------------------------------------------- output

def fmt(values):
    return " ".join("%.9g" % v for v in values)


def report(weights_path, weights_sha256, results):
    lines = [
        "# tinynet ResNet50 reference: Keras ResNet50 v1 (legacy layer names), include_top=False,",
        "# global average pooling, computed in float64 NHWC by tests/reference/resnet50_reference.py (numpy).",
        "# Input k: NHWC [height, width, 3], caffe-preprocessed (BGR, mean subtracted), given to conv1's padding:",
        "#   x[h][w][c] = amplitude * sin(freq * ((h * width + w) * 3 + c) + phase)",
        "# Per input: sum, l2 (norm), min, max, argmax over all 2048 features; first16 = features[0..15];",
        "# every128 = features[0], features[128], ..., features[1920]; top8 = index:value of the 8 largest.",
        "# Values printed with %.9g.",
        "format tinynet-resnet50-reference 1",
        "weights %s" % os.path.basename(weights_path),
        "weights_sha256 %s" % weights_sha256,
        "amplitude %.9g" % AMPLITUDE,
        "bn_epsilon %.9g" % BN_EPSILON,
        "features %d" % 2048,
        "inputs %d" % len(results),
    ]
    for k, ((height, width, freq, phase), f) in enumerate(results):
        lines += [
            "input %d height %d width %d freq %.9g phase %.9g" % (k, height, width, freq, phase),
            "sum %.9g" % f.sum(),
            "l2 %.9g" % np.sqrt(np.sum(f * f)),
            "min %.9g" % f.min(),
            "max %.9g" % f.max(),
            "argmax %d" % int(np.argmax(f)),
            "first%d %s" % (FIRST_COUNT, fmt(f[:FIRST_COUNT])),
            "every%d %s" % (STRIDE_EVERY, fmt(f[::STRIDE_EVERY])),
            "top%d %s" % (TOP_COUNT, " ".join("%d:%.9g" % (i, f[i]) for i in np.argsort(-f, kind="stable")[:TOP_COUNT])),
        ]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--weights", default=DEFAULT_WEIGHTS, help="Keras legacy ResNet50 notop .h5")
    parser.add_argument("--out", default=DEFAULT_OUT, help="reference file to write")
    parser.add_argument("--verbose", action="store_true", help="print per-stage statistics")
    parser.add_argument("--no-write", action="store_true", help="compute and print only")
    args = parser.parse_args()

    start = time.time()
    self_check()
    print("self-check of conv/pool/bn against direct loops: ok")
    with open(args.weights, "rb") as f:
        weights_sha256 = hashlib.sha256(f.read()).hexdigest()
    weights = load_weights(args.weights)
    print("weights: %s (%d layers with weights, %d values), sha256 %s"
          % (args.weights, len(weights), sum(a.size for ws in weights.values() for a in ws), weights_sha256))

    results = []
    for k, spec in enumerate(INPUTS):
        t = time.time()
        if args.verbose:
            print("input %d %s:" % (k, spec))
        features = resnet50_features(make_input(*spec), weights, args.verbose)
        check_features(features)
        results.append((spec, features))
        print("input %d %dx%d freq %g phase %g: sum %.9g l2 %.9g max %.9g at %d, %d zero features (%.2fs)"
              % (k, spec[0], spec[1], spec[2], spec[3], features.sum(), np.linalg.norm(features), features.max(),
                 int(np.argmax(features)), int(np.sum(features == 0)), time.time() - t))

    text = report(args.weights, weights_sha256, results)
    if not args.no_write:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as f:
            f.write(text)
        print("wrote %s" % os.path.normpath(args.out))
    print("total %.2fs" % (time.time() - start))
    return 0


if __name__ == "__main__":
    sys.exit(main())
