#!/usr/bin/python3
"""examples/tinynet_onnx/onnx_accuracy.py: test accuracy of an exported model, outside tinynet.

  /usr/bin/python3 examples/tinynet_onnx/onnx_accuracy.py MODEL.onnx TEST_BATCH.bin [--every K]

Runs MODEL.onnx (exported with --preprocessing, so it takes 0..255 pixel values) in the numpy
evaluator of tests/onnx_reference.py (float64, written from the ONNX operator specifications)
on every K-th image (default 10) of a CIFAR-10 binary batch file (3073-byte records: label,
then 32x32 red, green, blue planes; `cifar_convert` writes one from an image folder), one view
per image, and prints the accuracy and the prediction count per class.
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests"))
import onnx_reference  # noqa: E402  (exits 77 with a message when numpy or onnx is missing)
import numpy as np  # noqa: E402
import onnx  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model")
    parser.add_argument("batch_file")
    parser.add_argument("--every", type=int, default=10, help="evaluate every K-th image")
    parser.add_argument("--chunk", type=int, default=100, help="images per evaluator call")
    args = parser.parse_args()
    raw = np.fromfile(args.batch_file, dtype=np.uint8)
    if raw.size == 0 or raw.size % 3073:
        sys.exit(f"{args.batch_file}: {raw.size} bytes is not a whole number of 3073-byte CIFAR records")
    records = raw.reshape(-1, 3073)[::args.every]
    labels = records[:, 0].astype(np.int64)
    images = records[:, 1:].reshape(-1, 3, 32, 32).astype(np.float64)
    model = onnx.load(args.model)
    started = time.time()
    predictions = np.concatenate([onnx_reference.run(model, images[i:i + args.chunk]).argmax(axis=1)
                                  for i in range(0, len(images), args.chunk)])
    correct = int((predictions == labels).sum())
    print(f"{args.model}: {correct} of {len(labels)} images right ({100.0 * correct / len(labels):.2f}%), "
          f"every {args.every}th of {args.batch_file}, numpy evaluator, {time.time() - started:.0f} s")
    print("predictions per class:", np.bincount(predictions, minlength=10).tolist())


if __name__ == "__main__":
    main()
