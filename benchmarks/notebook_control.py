#!/usr/bin/python3
"""benchmarks/notebook_control.py: a PyTorch control for tinynet's notebook recipe.

The reference Keras notebook's CNN and recipe in PyTorch on the CPU (float32), written with
Keras' semantics so that it is the same experiment as `cifar_scratch --seed S`: the CNN
(Conv 32 same, Conv 32 valid, MaxPool, Dropout 0.25, Conv 64 same, Conv 64 valid, MaxPool,
Dropout 0.25, Dense 512, Dropout 0.5, Dense 10; ReLU then BatchNorm after every Conv and the
Dense 512), Keras' initial values (glorot_uniform kernels, zero biases), BatchNorm epsilon 1e-3
and momentum 0.9 in Keras' sense (PyTorch's default, as cifar_scratch; --bn-momentum 0.99 for
the notebook's Keras value), Keras' Adam
(lr 1e-3, epsilon 1e-7 added to sqrt(v) with the bias correction in the rate), batch 64,
15 epochs, inputs x / 255, 10% of the training set held out (stratified, seeded), and
ImageDataGenerator(rotation_range=15, width_shift_range=0.1, height_shift_range=0.1,
horizontal_flip=True): per image an angle in U(-15, 15) degrees about the centre, shifts in
U(-3.2, 3.2) pixels, a mirror half the time, bilinear, borders filled with the nearest pixel.
Reports each epoch's validation accuracy, the final weights' test accuracy and the
best-validation epoch's test accuracy, as tinynet's runs do.

  OPENBLAS_NUM_THREADS=1 /usr/bin/python3 benchmarks/notebook_control.py \\
      --data ../shared/data/cifar10 --seed 1 [--epochs 15] [--bn-momentum 0.9] [--out result.json]
"""
import argparse
import copy
import json
import math
import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before torch loads OpenBLAS

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from cifar_folder import load_split  # noqa: E402


def notebook_cnn(bn_momentum=0.99, classes=10, dropout=True):
    """The notebook's CNN with Keras' initial values; without its Dropout layers when dropout is False."""
    bn = dict(eps=1e-3, momentum=1 - bn_momentum)  # PyTorch's momentum is Keras' 1 - momentum
    drop = (lambda rate: [nn.Dropout(rate)]) if dropout else (lambda rate: [])
    layers, channels = [], 3
    for filters in (32, 64):
        for padding in (1, 0):
            layers += [nn.Conv2d(channels, filters, 3, padding=padding), nn.ReLU(), nn.BatchNorm2d(filters, **bn)]
            channels = filters
        layers += [nn.MaxPool2d(2)] + drop(0.25)
    layers += [nn.Flatten(), nn.Linear(64 * 6 * 6, 512), nn.ReLU(), nn.BatchNorm1d(512, **bn)] + drop(0.5)
    layers.append(nn.Linear(512, classes))
    model = nn.Sequential(*layers)
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)  # Keras' glorot_uniform
            nn.init.zeros_(m.bias)
    return model


class KerasAdam:
    def __init__(self, params, lr=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-7):
        self.params, self.lr, self.b1, self.b2, self.eps, self.t = list(params), lr, beta1, beta2, epsilon, 0
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]

    @torch.no_grad()
    def step(self):
        self.t += 1
        lr_t = self.lr * (1 - self.b2 ** self.t) ** 0.5 / (1 - self.b1 ** self.t)
        for p, m, v in zip(self.params, self.m, self.v):
            m.mul_(self.b1).add_(p.grad, alpha=1 - self.b1)
            v.mul_(self.b2).addcmul_(p.grad, p.grad, value=1 - self.b2)
            p.sub_(lr_t * m / (v.sqrt() + self.eps))


def augment(x, generator):
    """ImageDataGenerator(rotation 15, shifts 0.1, horizontal flip) on a batch [N, C, H, W]."""
    n, _, h, w = x.shape
    angle = (torch.rand(n, generator=generator) * 30 - 15) * math.pi / 180
    shift_y = (torch.rand(n, generator=generator) * 2 - 1) * 0.1 * h
    shift_x = (torch.rand(n, generator=generator) * 2 - 1) * 0.1 * w
    flip = torch.rand(n, generator=generator) < 0.5
    # As tinynet's Augmenter: output pixel o, mirrored back when flipped (u), reads the input at
    # centre + R(angle) (u - shift), R = [[cos, sin], [-sin, cos]] on (column, row) offsets; here
    # in align_corners coordinates (-1..1 over the pixel centres: a pixel is 2/(size-1)).
    cos, sin = torch.cos(angle), torch.sin(angle)
    sx, sy = 2 / (w - 1), 2 / (h - 1)
    mirror = torch.where(flip, -1.0, 1.0)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = cos * mirror
    theta[:, 0, 1] = sin * sx / sy
    theta[:, 0, 2] = -(cos * shift_x + sin * shift_y) * sx
    theta[:, 1, 0] = -sin * mirror * sy / sx
    theta[:, 1, 1] = cos
    theta[:, 1, 2] = (sin * shift_x - cos * shift_y) * sy
    grid = F.affine_grid(theta, list(x.shape), align_corners=True)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=True)


def stratified_split(labels, fraction, seed):
    rng = np.random.default_rng(seed)
    held = []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        held += list(rng.choice(members, int(round(fraction * len(members))), replace=False))
    held = np.sort(np.asarray(held))
    return np.setdiff1d(np.arange(len(labels)), held), held


def evaluate(model, x, y, batch=500):
    model.eval()
    correct, loss = 0, 0.0
    with torch.no_grad():
        for first in range(0, len(x), batch):
            logits = model(x[first:first + batch])
            loss += F.cross_entropy(logits, y[first:first + batch], reduction="sum").item()
            correct += (logits.argmax(1) == y[first:first + batch]).sum().item()
    model.train()
    return correct / len(x), loss / len(x)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True, help="folder with train/ and test/ class folders of 32x32 images")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--bn-momentum", type=float, default=0.9, help="Keras' sense (moving = m * moving + (1-m) * batch)")
    parser.add_argument("--out", help="write the results as JSON here")
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    generator = torch.Generator().manual_seed(args.seed)
    started = time.time()

    as_input = lambda u8: torch.from_numpy(u8).permute(0, 3, 1, 2).float() / 255
    images, labels = load_split(os.path.join(args.data, "train"))
    test_images, test_labels = load_split(os.path.join(args.data, "test"))
    train_idx, val_idx = stratified_split(labels, 0.1, args.seed)
    train_x, train_y = as_input(images[train_idx]), torch.from_numpy(labels[train_idx])
    val_x, val_y = as_input(images[val_idx]), torch.from_numpy(labels[val_idx])
    test_x, test_y = as_input(test_images), torch.from_numpy(test_labels)
    print(f"{len(train_y)} training, {len(val_y)} validation, {len(test_y)} test images", flush=True)

    model = notebook_cnn(args.bn_momentum)
    optimizer = KerasAdam(model.parameters())
    history, best, best_state = [], -1.0, None
    for epoch in range(args.epochs):
        start = time.time()
        order = torch.randperm(len(train_y), generator=generator)
        seen = correct = 0
        loss_sum = 0.0
        for first in range(0, len(order), 64):
            chosen = order[first:first + 64]
            x, y = augment(train_x[chosen], generator), train_y[chosen]
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            for p in model.parameters():
                p.grad = None
            loss.backward()
            optimizer.step()
            seen += len(y)
            correct += (logits.argmax(1) == y).sum().item()
            loss_sum += loss.item() * len(y)
        val_acc, val_loss = evaluate(model, val_x, val_y)
        seconds = time.time() - start
        history.append(dict(epoch=epoch + 1, seconds=seconds, train_loss=loss_sum / seen, train_acc=correct / seen,
                            val_loss=val_loss, val_acc=val_acc))
        if val_acc > best:
            best, best_state = val_acc, copy.deepcopy(model.state_dict())
        print(f"epoch {epoch + 1}: {seconds:.0f} s, loss {loss_sum / seen:.4f}, accuracy {correct / seen:.4f}, "
              f"validation {val_acc:.4f} (loss {val_loss:.4f})", flush=True)
    test_acc, test_loss = evaluate(model, test_x, test_y)
    best_epoch = max(history, key=lambda e: e["val_acc"])["epoch"]
    model.load_state_dict(best_state)
    best_test_acc, _ = evaluate(model, test_x, test_y)
    total = time.time() - started
    print(f"test accuracy {test_acc:.4f} (loss {test_loss:.4f}); the best-validation epoch {best_epoch}: "
          f"{best_test_acc:.4f}; {total / 60:.1f} min in all", flush=True)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(dict(seed=args.seed, epochs=args.epochs, bn_momentum=args.bn_momentum, torch=torch.__version__,
                           test_accuracy=test_acc, test_loss=test_loss, best_epoch=best_epoch,
                           best_test_accuracy=best_test_acc, seconds=total, history=history), f, indent=1)


if __name__ == "__main__":
    main()
