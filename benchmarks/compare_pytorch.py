#!/usr/bin/python3
"""benchmarks/compare_pytorch.py: the PyTorch side of the tinynet speed comparison.

The same networks, training step and timing method as benchmarks/train_step.cpp
(tinynet_train_bench), in PyTorch on the CPU (NCHW, float32):

  OPENBLAS_NUM_THREADS=1 /usr/bin/python3 benchmarks/compare_pytorch.py \
      --model scratch|resnet50|torchvision_resnet50 --batch 64 --threads 2 --repeats 5 \
      --phase train|infer|both [--size 48]

train: forward, CrossEntropyLoss, backward, Adam(lr=1e-3, eps=1e-7) step, in train mode.
infer: forward in eval mode under torch.no_grad(), batch --infer-batch (256).
Method: --warmup untimed steps; the last one sets the steps per repeat so a repeat lasts
at least --min-time seconds; the median over --repeats repeats of images/s is printed as
  pytorch scratch train batch=64 threads=2 images_per_s=412.7 size=32 steps=6 repeats=5

With --conv-shapes FILE it instead times PyTorch's convolution forward, backward-data and
backward-weights at the shapes named in FILE (the output of
`tinynet_kernels --benchmark_list_tests --benchmark_filter=conv_`, so the shapes come from
tinynet's models and are written down once), printing per shape
  pytorch conv_fwd/scratch/C32_32x32_OC32_k3x3_s1x1_p0.0.0.0 batch=64 threads=2 ms=12.34 gflop_per_s=85.6

The models follow tinynet's layer for layer: Keras BatchNormalization(momentum 0.99,
epsilon 1e-3) is BatchNorm(momentum=0.01, eps=1e-3); ResNet50 is Keras' v1 (stride on the
first 1x1 convolution, biased convolutions) with the head GAP -> Linear 256 -> ReLU ->
Dropout 0.5 -> Linear 10; torchvision_resnet50 is torchvision's resnet50() (v1.5, bias-free
convolutions) with that head, the model a PyTorch user would pick (tinynet's side of that row
is its Keras v1 ResNet50). Explicit ZeroPadding layers of tinynet are the padding
arguments of the following Conv2d / MaxPool2d here (the same arithmetic, as a PyTorch
user would write it; max pooling follows a ReLU, so -inf and zero padding agree).
"""
import argparse
import math
import os
import re
import statistics
import sys
import time

# OpenBLAS must run single-threaded under PyTorch's own 2-thread pool (the fastest setting
# on the reference machine); it reads the variable when the library loads, so set it first.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import torch  # noqa: E402
from torch import nn  # noqa: E402

CLASSES = 10
BN = dict(eps=1e-3, momentum=0.01)  # Keras momentum 0.99


def scratch_cnn(size):
    """The notebook CNN: (Conv-ReLU-BN) x2, pool, dropout, (Conv-ReLU-BN) x2, pool, dropout, dense."""
    def block(cin, cout, padding):
        return [nn.Conv2d(cin, cout, 3, padding=padding), nn.ReLU(), nn.BatchNorm2d(cout, **BN)]

    side = (size - 2) // 2       # same, valid, pool 2
    side = (side - 2) // 2       # same, valid, pool 2
    return nn.Sequential(
        *block(3, 32, 1), *block(32, 32, 0), nn.MaxPool2d(2), nn.Dropout(0.25),
        *block(32, 64, 1), *block(64, 64, 0), nn.MaxPool2d(2), nn.Dropout(0.25),
        nn.Flatten(), nn.Linear(64 * side * side, 512), nn.ReLU(), nn.BatchNorm1d(512, **BN), nn.Dropout(0.5),
        nn.Linear(512, CLASSES))


class Bottleneck(nn.Module):
    """Keras ResNet50 v1 block: 1x1/stride - BN - ReLU - 3x3 - BN - ReLU - 1x1 - BN, + shortcut, ReLU."""

    def __init__(self, cin, filters, stride, projection):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(cin, filters, 1, stride=stride), nn.BatchNorm2d(filters, **BN), nn.ReLU(),
            nn.Conv2d(filters, filters, 3, padding=1), nn.BatchNorm2d(filters, **BN), nn.ReLU(),
            nn.Conv2d(filters, 4 * filters, 1), nn.BatchNorm2d(4 * filters, **BN))
        self.shortcut = (nn.Sequential(nn.Conv2d(cin, 4 * filters, 1, stride=stride),
                                       nn.BatchNorm2d(4 * filters, **BN)) if projection else nn.Identity())

    def forward(self, x):
        return torch.relu(self.main(x) + self.shortcut(x))


def resnet50_classifier():
    layers = [nn.Conv2d(3, 64, 7, stride=2, padding=3), nn.BatchNorm2d(64, **BN), nn.ReLU(),
              nn.MaxPool2d(3, stride=2, padding=1)]
    cin = 64
    for stage, (blocks, width) in enumerate(zip((3, 4, 6, 3), (64, 128, 256, 512))):
        for b in range(blocks):
            layers.append(Bottleneck(cin, width, 2 if (b == 0 and stage > 0) else 1, b == 0))
            cin = 4 * width
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2048, 256), nn.ReLU(), nn.Dropout(0.5),
               nn.Linear(256, CLASSES)]
    return nn.Sequential(*layers)


def torchvision_resnet50_classifier():
    """torchvision's resnet50() (v1.5: stride on the 3x3 convolution, bias-free convolutions), the
    model a PyTorch user picks, with the same head as tinynet's in place of its 1000-way fc."""
    import torchvision
    model = torchvision.models.resnet50(weights=None)
    model.fc = nn.Sequential(nn.Linear(2048, 256), nn.ReLU(), nn.Dropout(0.5), nn.Linear(256, CLASSES))
    return model


def measure(step, images_per_step, warmup, repeats, min_time):
    """Median images/s over the repeats (warm-up excluded), and the steps per repeat."""
    last = 0.0
    for _ in range(warmup):
        start = time.perf_counter()
        step()
        last = time.perf_counter() - start
    steps = max(1, math.ceil(min_time / max(last, 1e-6)))
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            step()
        rates.append(images_per_step * steps / (time.perf_counter() - start))
    return statistics.median(rates), steps


CONV_NAME = re.compile(r"(conv_fwd|conv_bwd_data|conv_bwd_weights)/(\w+)/C(\d+)_(\d+)x(\d+)_OC(\d+)_k(\d+)x(\d+)"
                       r"_s(\d+)x(\d+)_p(\d+)\.(\d+)\.(\d+)\.(\d+)")


def time_conv_shapes(path, args):
    """Per tinynet_kernels convolution benchmark named in `path`: PyTorch's time for the same pass."""
    batch = args.batch
    seen = set()  # tinynet times 3x3 stride-1 shapes once per path: PyTorch's once
    for line in open(path):
        match = CONV_NAME.match(line.strip())
        if not match or match.group(0) in seen:
            continue
        name = match.group(0)
        seen.add(name)
        op = match.group(1)
        c, h, w, oc, kh, kw, sh, sw, top, left, bottom, right = map(int, match.groups()[2:])
        x = torch.randn(batch, c, h, w)
        if (top, left) != (bottom, right):
            x = nn.functional.pad(x, (left, right, top, bottom))
            top = left = 0
        weight = torch.randn(oc, c, kh, kw)
        bias = torch.randn(oc)
        with torch.no_grad():
            y = nn.functional.conv2d(x, weight, bias, (sh, sw), (top, left))
        dy = torch.randn_like(y)
        mask = {"conv_fwd": None, "conv_bwd_data": [True, False, False], "conv_bwd_weights": [False, True, True]}[op]

        def run():
            with torch.no_grad():
                if mask is None:
                    nn.functional.conv2d(x, weight, bias, (sh, sw), (top, left))
                else:
                    torch.ops.aten.convolution_backward(dy, x, weight, [oc], [sh, sw], [top, left], [1, 1], False,
                                                        [0, 0], 1, mask)

        rate, steps = measure(run, 1, args.warmup, args.repeats, args.min_time)
        flops = 2.0 * oc * batch * y.shape[2] * y.shape[3] * c * kh * kw
        print(f"pytorch {name} batch={batch} threads={args.threads} ms={1e3 / rate:.3f} "
              f"gflop_per_s={flops * rate * 1e-9:.2f}", flush=True)


def report(args, phase, batch, size, rate, steps):
    print(f"pytorch {args.model} {phase} batch={batch} threads={args.threads} images_per_s={rate:.2f} "
          f"size={size} steps={steps} repeats={args.repeats}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=("scratch", "resnet50", "torchvision_resnet50"), default="scratch")
    parser.add_argument("--phase", choices=("train", "infer", "both"), default="both")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--infer-batch", type=int, default=256)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--size", type=int, default=None, help="image side (default 32 scratch, 48 resnet50)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--min-time", type=float, default=1.0)
    parser.add_argument("--conv-shapes", metavar="FILE",
                        help="time the convolution passes named in FILE (tinynet_kernels --benchmark_list_tests)")
    args = parser.parse_args()
    if args.batch < 1 or args.infer_batch < 1 or args.repeats < 1 or args.warmup < 1 or args.threads < 1:
        parser.error("--batch, --infer-batch, --repeats, --warmup and --threads must be >= 1")
    if os.environ.get("OPENBLAS_NUM_THREADS") != "1":
        print(f"compare_pytorch.py: warning: OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']} "
              "(the comparison uses 1)", file=sys.stderr)
    size = args.size or (32 if args.model == "scratch" else 48)
    if size < 32:
        parser.error(f"--size {size} is below 32")

    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    if args.conv_shapes:
        time_conv_shapes(args.conv_shapes, args)
        return
    model = {"scratch": lambda: scratch_cnn(size), "resnet50": resnet50_classifier,
             "torchvision_resnet50": torchvision_resnet50_classifier}[args.model]()
    generator = torch.Generator().manual_seed(7)

    if args.phase != "infer":
        x = torch.randn(args.batch, 3, size, size, generator=generator)
        labels = torch.randint(0, CLASSES, (args.batch,), generator=generator)
        loss_fn = nn.CrossEntropyLoss()
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
        model.train()
        last_loss = [0.0]

        def train_step():
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(x), labels)
            loss.backward()
            optimizer.step()
            last_loss[0] = loss.detach()

        rate, steps = measure(train_step, args.batch, args.warmup, args.repeats, args.min_time)
        if not math.isfinite(float(last_loss[0])):
            sys.exit(f"compare_pytorch.py: {args.model} training step: the loss became {float(last_loss[0])}")
        report(args, "train", args.batch, size, rate, steps)

    if args.phase != "train":
        x = torch.randn(args.infer_batch, 3, size, size, generator=generator)
        model.eval()

        def infer_step():
            with torch.no_grad():
                model(x)

        rate, steps = measure(infer_step, args.infer_batch, args.warmup, args.repeats, args.min_time)
        report(args, "infer", args.infer_batch, size, rate, steps)


if __name__ == "__main__":
    main()
