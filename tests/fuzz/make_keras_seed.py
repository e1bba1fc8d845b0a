#!/usr/bin/python3
"""Writes the seed corpus of fuzz_keras_hdf5: small Keras weight files in both layouts
(save_weights at the root, a whole saved model under /model_weights), with h5py.
Usage: /usr/bin/python3 tests/fuzz/make_keras_seed.py <corpus-root>/fuzz_keras_hdf5"""
import os
import sys

import h5py
import numpy as np


def string_list(group, name, values, vlen):
    """Keras' string-list attribute: variable-length (tf.keras) or fixed-length bytes (h5py numpy)."""
    if vlen:
        group.attrs.create(name, values, dtype=h5py.string_dtype())
    else:
        group.attrs.create(name, np.array([v.encode() for v in values], dtype="S"))


def write_layers(group, layers, vlen):
    string_list(group, "layer_names", [name for name, _ in layers], vlen)
    for name, weights in layers:
        layer = group.create_group(name)
        string_list(layer, "weight_names", [w for w, _ in weights], vlen)
        for weight, values in weights:
            layer.create_dataset(weight, data=values)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    layers = [
        ("input_1", []),
        ("conv1", [("conv1/kernel:0", np.arange(24, dtype=np.float32).reshape(2, 2, 2, 3)),
                   ("conv1/bias:0", np.ones(3, dtype=np.float64))]),
        ("bn", [("bn/gamma:0", np.ones(3, dtype=np.float16)), ("bn/moving_mean:0", np.zeros(3, dtype=np.float32))]),
    ]
    with h5py.File(os.path.join(out, "save_weights.h5"), "w") as f:
        write_layers(f, layers, vlen=False)
    with h5py.File(os.path.join(out, "saved_model.h5"), "w") as f:
        f.attrs["model_config"] = "{}"
        write_layers(f.create_group("model_weights"), layers, vlen=True)


if __name__ == "__main__":
    main()
