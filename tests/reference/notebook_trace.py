#!/usr/bin/python3
"""The notebook CNN step by step in tinynet and in PyTorch, from the same weights and batches.

Runs tests/reference/notebook_trace (tinynet) on a CIFAR-10 folder; it writes the images it
trains on, its parameter buffer (weights and BatchNorm moving statistics) after every recorded
step and its inference-mode logits of some test images. Free-running trajectories of two
frameworks part within a few steps (float rounding, amplified by training), so each check here
starts PyTorch from tinynet's own state:
  - the step: from tinynet's buffer after step s-1, one PyTorch training step on batch s (plain
    SGD, lr 0.01), compared with tinynet's buffer after step s: every weight's update and every
    moving statistic (the training-mode forward, the gradients, the statistics update); with
    --optimizer adam (the notebook's Keras Adam), only step 1, where the optimizer state is fresh;
  - inference: tinynet's buffer after step s loaded into PyTorch, its eval-mode logits of the
    evaluation images against tinynet's (the moving statistics and the inference path).
The PyTorch model is the notebook CNN with Keras' semantics (3x3 'same' = padding 1; BatchNorm
eps 1e-3, momentum 0.99 in Keras' sense = 0.01 in PyTorch's; the running variance updated with
the unbiased batch variance, as both do), without Dropout; Keras' Adam is written out (lr_t = lr
sqrt(1 - b2^t) / (1 - b1^t), epsilon added to sqrt(v)).

  /usr/bin/python3 tests/reference/notebook_trace.py TRACE_EXE DATA_DIR WORK_DIR
      [--steps 20] [--batch 64] [--seed 1] [--record-every 1] [--eval-images 200]
      [--optimizer sgd|adam] [--update-tolerance 1e-3] [--logit-tolerance 1e-5]

Prints one row per recorded step: the training loss in both, the largest update difference
(relative to the largest update) and the largest logit difference (relative to the largest
logit); exits 1 when one exceeds its tolerance, 77 (ctest's skip) without torch or numpy.
The update tolerance is looser: a convolution bias feeding a ReLU and a BatchNorm has a
gradient that is a near-cancelling sum over every pixel of the batch, so summation order alone
moves it by up to ~1e-4 of the largest update (Winograd convolutions by up to ~1.4e-3: the
ctest forces the im2col path); a wrong formula (Bessel's correction, the momentum convention,
epsilon's place) moves it by percents.
"""
import argparse
import json
import os
import subprocess
import sys

try:
    import numpy as np
    import torch
    from torch import nn
except ImportError as missing:
    print(f"SKIPPED: /usr/bin/python3 lacks numpy or torch ({missing}); install python3-torch")
    sys.exit(77)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "benchmarks"))
from notebook_control import KerasAdam, notebook_cnn  # noqa: E402  (the PyTorch side, written once)


def read_cifar_binary(folder):
    """Images (uint8 [N, 3, 32, 32]) and labels of data_batch_1..5.bin in order, and test_batch.bin."""
    def read(names):
        raw = b"".join(open(os.path.join(folder, n), "rb").read() for n in names)
        records = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 1 + 3 * 32 * 32)
        return records[:, 1:].reshape(-1, 3, 32, 32), records[:, 0].astype(np.int64)
    return read([f"data_batch_{i}.bin" for i in range(1, 6)]), read(["test_batch.bin"])


def torch_tensors(model):
    """The model's tensors in tinynet's parameter order, with how each maps to tinynet's layout."""
    out = []
    for m in model:
        if isinstance(m, nn.Conv2d):
            out += [(m.weight, False), (m.bias, False)]
        elif isinstance(m, nn.Linear):
            out += [(m.weight, True), (m.bias, False)]  # tinynet's Dense kernel is [in, out]
        elif isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)):
            out += [(m.weight, False), (m.bias, False), (m.running_mean, False), (m.running_var, False)]
    return out


def load_buffer(model, entries, buffer):
    with torch.no_grad():
        for (t, transposed), e in zip(torch_tensors(model), entries):
            values = torch.from_numpy(buffer[e["offset"]:e["offset"] + int(np.prod(e["shape"]))].copy())
            values = values.reshape(e["shape"])
            t.copy_(values.T if transposed else values)


def to_buffer(model, entries, size):
    buffer = np.zeros(size, dtype=np.float32)
    for (t, transposed), e in zip(torch_tensors(model), entries):
        v = (t.detach().T if transposed else t.detach()).contiguous().numpy().reshape(-1)
        buffer[e["offset"]:e["offset"] + v.size] = v
    return buffer


class PlainSgd:
    def __init__(self, params, lr=0.01):
        self.params, self.lr = list(params), lr

    @torch.no_grad()
    def step(self):
        for p in self.params:
            p.sub_(self.lr * p.grad)


def relative(a, b):
    return float(np.max(np.abs(a - b)) / max(float(np.max(np.abs(a))), 1e-30))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("trace_exe")
    parser.add_argument("data")
    parser.add_argument("work")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--record-every", type=int, default=1)
    parser.add_argument("--eval-images", type=int, default=200)
    parser.add_argument("--optimizer", choices=("sgd", "adam"), default="sgd")
    parser.add_argument("--update-tolerance", type=float, default=1e-3)
    parser.add_argument("--logit-tolerance", type=float, default=1e-5)
    args = parser.parse_args()
    torch.set_num_threads(2)
    subprocess.run([args.trace_exe, args.data, args.work, str(args.steps), str(args.batch), str(args.seed),
                    str(args.record_every), str(args.eval_images), args.optimizer], check=True)
    (train_x, train_y), (eval_x, _) = read_cifar_binary(os.path.join(args.work, "data"))
    entries = json.load(open(os.path.join(args.work, "params.json")))
    trace = json.load(open(os.path.join(args.work, "trace.json")))
    classes = len(trace["eval_logits"]["0"]) // len(eval_x)
    size = entries[-1]["offset"] + int(np.prod(entries[-1]["shape"]))
    buffer = lambda step: np.fromfile(os.path.join(args.work, f"params_{step}.bin"), dtype=np.float32)
    as_input = lambda u8: torch.from_numpy((u8.astype(np.float64) / 255).astype(np.float32))
    evaluation = as_input(eval_x)
    recorded = sorted(int(k) for k in trace["eval_logits"])

    print(f"{'step':>5} {'loss tinynet':>13} {'loss torch':>11} {'update diff':>12} {'eval logits diff':>17}")
    worst_update = worst_logits = 0.0
    for step in recorded:
        model = notebook_cnn(classes=classes, dropout=False)
        loss_torch, update_error = float("nan"), float("nan")
        synced_step = step > 0 and step - 1 in recorded and (args.optimizer == "sgd" or step == 1)
        if synced_step:
            before = buffer(step - 1)
            load_buffer(model, entries, before)
            model.train()
            batch = slice((step - 1) * args.batch, step * args.batch)
            loss = nn.functional.cross_entropy(model(as_input(train_x[batch])), torch.from_numpy(train_y[batch]))
            loss.backward()
            (KerasAdam if args.optimizer == "adam" else PlainSgd)(model.parameters()).step()
            ours, theirs = buffer(step) - before, to_buffer(model, entries, size) - before
            loss_torch, update_error = float(loss), relative(theirs, ours)
            worst_update = max(worst_update, update_error)
        load_buffer(model, entries, buffer(step))
        model.eval()
        with torch.no_grad():
            logits = model(evaluation).numpy().reshape(-1)
        logit_error = relative(logits, np.asarray(trace["eval_logits"][str(step)], dtype=np.float32))
        worst_logits = max(worst_logits, logit_error)
        loss_tinynet = trace["loss"][step - 1] if step > 0 else float("nan")
        print(f"{step:5d} {loss_tinynet:13.6f} {loss_torch:11.6f} {update_error:12.2e} {logit_error:17.2e}", flush=True)
    ok = worst_update <= args.update_tolerance and worst_logits <= args.logit_tolerance
    print(f"notebook_trace: largest update difference {worst_update:.2e} (tolerance {args.update_tolerance:g}), "
          f"logit difference {worst_logits:.2e} (tolerance {args.logit_tolerance:g}): {'ok' if ok else 'FAIL'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
