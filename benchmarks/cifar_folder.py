"""benchmarks/cifar_folder.py: CIFAR-10 image folders for the PyTorch controls (python3-pil, numpy).

load_split(folder) reads <folder>/<class>/*.jpg|png (classes in sorted order, files in sorted
order, as tinynet's image-folder reader) into uint8 [N, 32, 32, 3] and int64 labels.
"""
import os
import sys

import numpy as np


def load_split(folder):
    """All images of <folder>/<class>/* as uint8 [N, 32, 32, 3] and int64 labels (classes sorted)."""
    from PIL import Image
    classes = sorted(d for d in os.listdir(folder) if os.path.isdir(os.path.join(folder, d)))
    if not classes:
        sys.exit(f"no class folders in {folder}")
    images, labels = [], []
    for label, name in enumerate(classes):
        class_dir = os.path.join(folder, name)
        for file in sorted(os.listdir(class_dir)):
            with Image.open(os.path.join(class_dir, file)) as im:
                pixels = np.asarray(im.convert("RGB"))
            if pixels.shape != (32, 32, 3):
                sys.exit(f"{os.path.join(class_dir, file)} is {pixels.shape}, not 32x32 RGB")
            images.append(pixels)
            labels.append(label)
    return np.stack(images), np.asarray(labels, dtype=np.int64)
