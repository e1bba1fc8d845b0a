#!/usr/bin/python3
"""benchmarks/airbench_control.py: a PyTorch control for tinynet's fast recipe.

A port of Keller Jordan's airbench94 (github.com/KellerJordan/cifar10-airbench, airbench94.py),
written here from reading it, for the CPU in float32, trained on the same data tinynet
trains on (an image folder train/<class>/*.jpg, test/<class>/*.jpg, as in ../shared). What it
reaches is what this data allows the recipe; docs/examples.md compares tinynet against it.

  OPENBLAS_NUM_THREADS=1 /usr/bin/python3 benchmarks/airbench_control.py \
      --data ../shared/data/cifar10 --seed 1 [--epochs 9.9] [--threads 2] [--out result.json]

The recipe, as airbench94 has it:
- data: per-channel standardisation (airbench's CIFAR-10 constants); every epoch a random
  crop of the images padded by 2 pixels with reflection; flipping: a random half of the
  images mirrored once before training, then every image mirrored in every other epoch;
- net: 2x2 patch-whitening convolution (24 filters: the covariance eigenvectors scaled by
  1/sqrt(eigenvalue + 5e-4) and their negatives, frozen; its bias trained for the first 3
  epochs) -> GELU -> three groups [conv 3x3 (identity-initialised on the first input
  channels, PyTorch's default init elsewhere), max-pool 2, BatchNorm, GELU, conv 3x3,
  BatchNorm, GELU] of widths 64, 256, 256 -> max-pool 3 -> linear (no bias) -> x 1/9; the
  BatchNorms: eps 1e-12, momentum 0.4 (PyTorch's sense), no trainable scale;
- the whitening statistics from 5,000 training images: airbench takes the first 5,000 of
  torchvision's order, a sample across classes; an image folder is stored class by class, so
  here every tenth image, as tinynet's fast recipe takes them (--whitening-sample first takes
  the folder's first 5,000, all airplanes, as tinynet's recipe did before);
- optimisation: summed label-smoothed (0.2) cross-entropy, SGD Nesterov momentum 0.85,
  batch 1024 (the last partial batch dropped), learning rate 11.5 and weight decay 0.0153 per
  1024 examples in airbench's decoupled form, BatchNorm biases at 64x the rate, a triangular
  schedule from 0.2 up to 1 at 23% of the steps and down to 0.07;
- Lookahead from epoch 3: every 5 steps the weights and the slow copy move to
  slow + (1 - rho)(fast - slow), rho = 0.95^5 (step / total)^3; after each epoch the weights
  are set to the slow copy;
- evaluation: plain test accuracy after each epoch; at the end six views per image (mirror x
  {none, shifted one pixel up-left, down-right}, reflection padding), their logits averaged
  with weights 1/4, 1/4 (unshifted pair) and 1/8 each (shifted pairs), as airbench's level 2.
"""
import argparse
import json
import math
import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before torch loads OpenBLAS

import torch  # noqa: E402
from cifar_folder import load_split  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

MEAN = (0.4914, 0.4822, 0.4465)  # airbench's standardisation constants
STD = (0.2470, 0.2435, 0.2616)


def standardize(images_uint8):
    x = images_uint8.permute(0, 3, 1, 2).float() / 255
    return (x - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(STD).view(1, 3, 1, 1)


class TrainingImages:
    """The epoch-by-epoch augmented training set (crops of reflection-padded images, flips)."""

    def __init__(self, images, labels, batch_size, pad=2):
        self.labels, self.batch_size, self.pad = labels, batch_size, pad
        mirror_once = torch.rand(len(images)) < 0.5
        flipped = torch.where(mirror_once.view(-1, 1, 1, 1), images.flip(-1), images)
        self.padded = F.pad(flipped, (pad,) * 4, mode="reflect")
        self.size = images.shape[-1]
        self.epoch = 0

    def steps_per_epoch(self):
        return len(self.labels) // self.batch_size

    def crops(self):
        """One random crop per image: shifts in [-pad, pad] along each axis."""
        n, r, s = len(self.labels), self.pad, self.size
        shift = torch.randint(0, 2 * r + 1, (n, 2))
        out = torch.empty(n, 3, s, s)
        for dy in range(2 * r + 1):
            for dx in range(2 * r + 1):
                chosen = (shift[:, 0] == dy) & (shift[:, 1] == dx)
                out[chosen] = self.padded[chosen, :, dy:dy + s, dx:dx + s]
        return out

    def batches(self):
        images = self.crops()
        if self.epoch % 2 == 1:
            images = images.flip(-1)
        self.epoch += 1
        order = torch.randperm(len(self.labels))
        for step in range(self.steps_per_epoch()):
            chosen = order[step * self.batch_size:(step + 1) * self.batch_size]
            yield images[chosen], self.labels[chosen]


class ConvIdentityInit(nn.Conv2d):
    """3x3 'same' convolution without bias; the filters up to the input width start as identities."""

    def __init__(self, channels_in, channels_out):
        super().__init__(channels_in, channels_out, 3, padding="same", bias=False)

    def reset_parameters(self):
        super().reset_parameters()
        with torch.no_grad():
            nn.init.dirac_(self.weight[:self.in_channels])


def batch_norm(width):
    bn = nn.BatchNorm2d(width, eps=1e-12, momentum=0.4)
    bn.weight.requires_grad = False
    return bn


def conv_group(channels_in, width):
    return nn.Sequential(ConvIdentityInit(channels_in, width), nn.MaxPool2d(2), batch_norm(width), nn.GELU(),
                         ConvIdentityInit(width, width), batch_norm(width), nn.GELU())


class Scale(nn.Module):
    def __init__(self, factor):
        super().__init__()
        self.factor = factor

    def forward(self, x):
        return x * self.factor


def build_net(whitening_width=24):
    net = nn.Sequential(
        nn.Conv2d(3, whitening_width, 2, padding=0, bias=True), nn.GELU(),
        conv_group(whitening_width, 64), conv_group(64, 256), conv_group(256, 256),
        nn.MaxPool2d(3), nn.Flatten(), nn.Linear(256, 10, bias=False), Scale(1 / 9))
    net[0].weight.requires_grad = False
    with torch.no_grad():
        net[0].bias.zero_()
    return net


def init_whitening(conv, images, eps=5e-4):
    """The 2x2 patch covariance's eigenvectors / sqrt(eigenvalue + eps), and their negatives."""
    k = conv.kernel_size[0]
    patches = images.unfold(2, k, 1).unfold(3, k, 1).permute(0, 2, 3, 1, 4, 5).reshape(-1, 3 * k * k).double()
    covariance = patches.T @ patches / len(patches)
    eigenvalues, eigenvectors = torch.linalg.eigh(covariance)
    order = torch.arange(len(eigenvalues) - 1, -1, -1)  # largest first
    filters = (eigenvectors.T[order] / torch.sqrt(eigenvalues[order] + eps).view(-1, 1)).reshape(-1, 3, k, k)
    with torch.no_grad():
        conv.weight.copy_(torch.cat([filters, -filters]).float())


def triangle(step, total, start=0.2, peak_at=0.23, end=0.07):
    peak = int(peak_at * total)
    if step < peak:
        return start + (1 - start) * step / peak
    return 1 + (end - 1) * (step - peak) / (total - peak)


def evaluate(net, images, labels, batch=2000, tta=False):
    net.eval()
    correct = 0
    with torch.no_grad():
        for first in range(0, len(images), batch):
            x = images[first:first + batch]
            if tta:
                def mirrored(v):
                    return 0.5 * net(v) + 0.5 * net(v.flip(-1))
                padded = F.pad(x, (1,) * 4, mode="reflect")
                s = x.shape[-1]
                shifted = 0.5 * mirrored(padded[:, :, 0:s, 0:s]) + 0.5 * mirrored(padded[:, :, 2:s + 2, 2:s + 2])
                logits = 0.5 * mirrored(x) + 0.5 * shifted
            else:
                logits = net(x)
            correct += (logits.argmax(1) == labels[first:first + batch]).sum().item()
    net.train()
    return correct / len(images)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True, help="folder with train/ and test/ class folders of 32x32 JPEGs")
    parser.add_argument("--epochs", type=float, default=9.9)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--whitening-sample", choices=["spread", "first"], default="spread")
    parser.add_argument("--out", help="write the results as JSON here")
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    started = time.time()

    train_x, train_y = [torch.from_numpy(a) for a in load_split(os.path.join(args.data, "train"))]
    test_x, test_y = [torch.from_numpy(a) for a in load_split(os.path.join(args.data, "test"))]
    train_x, test_x = standardize(train_x), standardize(test_x)
    loaded = time.time()
    print(f"loaded {len(train_y)} training and {len(test_y)} test images in {loaded - started:.1f} s", flush=True)

    batch_size, momentum = 1024, 0.85
    kilostep = 1024 * (1 + 1 / (1 - momentum))  # airbench's decoupled hyperparameters -> torch SGD's
    lr, wd = 11.5 / kilostep, 0.0153 * batch_size / kilostep
    lr_bias = 64 * lr

    net = build_net()
    count = min(5000, len(train_y))
    sample = (torch.arange(count) * len(train_y) // count if args.whitening_sample == "spread" else torch.arange(count))
    init_whitening(net[0], train_x[sample])
    biases = [p for name, p in net.named_parameters() if p.requires_grad and p.ndim == 1 and name != "0.bias"]
    others = [p for name, p in net.named_parameters() if p.requires_grad and (p.ndim > 1 or name == "0.bias")]
    optimizer = torch.optim.SGD([dict(params=biases, lr=lr_bias, weight_decay=wd / lr_bias),
                                 dict(params=others, lr=lr, weight_decay=wd / lr)],
                                momentum=momentum, nesterov=True)
    base_rates = [lr_bias, lr]
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.2, reduction="sum")

    data = TrainingImages(train_x, train_y, batch_size)
    total_steps = math.ceil(data.steps_per_epoch() * args.epochs)
    step, slow, history = 0, None, []
    for epoch in range(math.ceil(args.epochs)):
        epoch_start = time.time()
        net[0].bias.requires_grad = epoch < 3
        seen = correct = 0
        for x, y in data.batches():
            for group, base in zip(optimizer.param_groups, base_rates):
                group["lr"] = base * triangle(step, total_steps)
            logits = net(x)
            loss = loss_fn(logits, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            seen += len(y)
            correct += (logits.argmax(1) == y).sum().item()
            if epoch >= 3 and step % 5 == 0:
                state = [v for v in net.state_dict().values() if v.dtype == torch.float32]
                if slow is None:
                    slow = [v.clone() for v in state]
                else:
                    rho = 0.95 ** 5 * (step / total_steps) ** 3
                    for s, v in zip(slow, state):
                        s.lerp_(v, 1 - rho)
                        v.copy_(s)
            if step >= total_steps:
                break
        if slow is not None:
            for s, v in zip(slow, [v for v in net.state_dict().values() if v.dtype == torch.float32]):
                v.copy_(s)
        seconds = time.time() - epoch_start
        test_acc = evaluate(net, test_x, test_y)
        history.append(dict(epoch=epoch + 1, seconds=seconds, train_acc=correct / max(seen, 1), test_acc=test_acc))
        print(f"epoch {epoch + 1}: {seconds:.0f} s, training accuracy {correct / max(seen, 1):.4f}, "
              f"test accuracy {test_acc:.4f}", flush=True)
    tta_acc = evaluate(net, test_x, test_y, tta=True)
    total = time.time() - started
    print(f"test accuracy with six-view TTA: {tta_acc:.4f}; {total / 60:.1f} min in all", flush=True)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(dict(seed=args.seed, epochs=args.epochs, threads=args.threads, torch=torch.__version__,
                           whitening_sample=args.whitening_sample, tta_test_accuracy=tta_acc, seconds=total,
                           history=history), f, indent=1)


if __name__ == "__main__":
    main()
