#!/usr/bin/env bash
# tests/gpu/run_on_device.sh: the checks of the cuDNN backend that need a GPU.
#
# NOT run by tests/run_all.sh or CI, and never run on the development machines (they have no
# GPU): run it by hand on a Linux host with an NVIDIA GPU, CUDA 12/13 and cuDNN 9 (at
# /usr/local/cuda, or via CUDACXX and CUDNN_ROOT). It
#   1. configures and builds the CUDA configuration (Release, -DTINYNET_WITH_CUDNN=ON);
#   2. runs test_backend_ops (every op and two models, CPU vs CUDA) and fails if any case
#      fails or was skipped;
#   3. prints training images/s of the scratch CNN and of ResNet50 on this GPU, and the same
#      for PyTorch models of the same layout when python3 has torch with CUDA (strict FP32 on
#      both sides; TINYNET_BENCH_CNN_BATCH, TINYNET_BENCH_RESNET_BATCH, TINYNET_BENCH_RESNET_SIZE,
#      TINYNET_BENCH_STEPS change the runs);
#   4. when TINYNET_CIFAR_DIR names the CIFAR-10 binary release, trains the scratch CNN for
#      a few epochs on a 5,000-image subset and checks it learns (> 30% test accuracy);
#   5. when MPI and NCCL are there, runs test_nccl_communicator with one rank per visible GPU
#      (NCCL sums and broadcast of device buffers, a data-parallel GPU step against one process).
# Usage: tests/gpu/run_on_device.sh [build-dir]        (default: build-gpu)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${1:-$root/build-gpu}"
jobs="$(nproc 2>/dev/null || echo 4)"

nvidia-smi -L || { echo "run_on_device.sh: no NVIDIA GPU visible (nvidia-smi failed)" >&2; exit 1; }

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DTINYNET_WITH_CUDNN=ON -DTINYNET_WERROR=ON \
      -DTINYNET_BUILD_EXAMPLES=OFF -DTINYNET_BUILD_BENCHMARKS=OFF
cmake --build "$build" -j"$jobs" --target test_backend_ops
tests="$build/tests/test_backend_ops"

echo "== 1. CPU vs CUDA, op by op and on training steps"
"$tests" | tee "$build/backend_ops.log"
if grep -q "SKIPPED" "$build/backend_ops.log"; then
  echo "run_on_device.sh: test_backend_ops skipped its comparisons on a GPU machine (see the WARN above)" >&2
  exit 1
fi

echo "== 2. training throughput (images/s), tinynet"
"$tests" "[.gpu-bench]" | grep "images_per_s"

echo "== 2. training throughput (images/s), PyTorch on the same GPU"
if python3 -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; then
  python3 - <<'PYTHON'
import os, time
import torch
import torch.nn as nn

torch.backends.cudnn.benchmark = True
torch.backends.cudnn.allow_tf32 = False        # strict FP32, as tinynet's default
torch.backends.cuda.matmul.allow_tf32 = False
device = torch.device("cuda")

def notebook_cnn(classes=10):
    # Conv-ReLU-BN x2, pool, dropout, x2 again, Dense 512-ReLU-BN, dropout, Dense (Keras BN:
    # momentum 0.99 -> PyTorch momentum 0.01, epsilon 1e-3).
    layers, c = [], 3
    def block(out, pad):
        nonlocal c
        layers.extend([nn.Conv2d(c, out, 3, padding=pad), nn.ReLU(), nn.BatchNorm2d(out, eps=1e-3, momentum=0.01)])
        c = out
    block(32, 1); block(32, 0); layers += [nn.MaxPool2d(2), nn.Dropout(0.25)]
    block(64, 1); block(64, 0); layers += [nn.MaxPool2d(2), nn.Dropout(0.25)]
    layers += [nn.Flatten(), nn.Linear(64 * 6 * 6, 512), nn.ReLU(), nn.BatchNorm1d(512, eps=1e-3, momentum=0.01),
               nn.Dropout(0.5), nn.Linear(512, classes)]
    return nn.Sequential(*layers)

def resnet50(classes=10):
    import torchvision  # torchvision's ResNet50 is v1.5 (stride on the 3x3): same FLOPs within ~1%
    return torchvision.models.resnet50(num_classes=classes)

def images_per_second(model, batch, size, steps):
    model = model.to(device).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    x = torch.rand(batch, 3, size, size, device=device)
    y = torch.arange(batch, device=device) % 10
    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()  # waits for the device, as tinynet's loss value does
    for _ in range(3):
        step()
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    torch.cuda.synchronize()
    return batch * steps / (time.perf_counter() - start)

steps = int(os.environ.get("TINYNET_BENCH_STEPS", 20))
cnn_batch = int(os.environ.get("TINYNET_BENCH_CNN_BATCH", 128))
print(f"pytorch cuda notebook_cnn train batch={cnn_batch} size=32 "
      f"images_per_s={images_per_second(notebook_cnn(), cnn_batch, 32, steps):.1f}")
try:
    batch = int(os.environ.get("TINYNET_BENCH_RESNET_BATCH", 64))
    size = int(os.environ.get("TINYNET_BENCH_RESNET_SIZE", 224))
    print(f"pytorch cuda resnet50 train batch={batch} size={size} "
          f"images_per_s={images_per_second(resnet50(), batch, size, steps):.1f}")
except ImportError:
    print("pytorch resnet50: torchvision not installed, skipped")
PYTHON
else
  echo "PyTorch with CUDA not available: the PyTorch side is skipped"
fi

echo "== 3. short training run on a CIFAR-10 subset"
if [ -n "${TINYNET_CIFAR_DIR:-}" ]; then
  "$tests" "[.gpu-cifar]"
else
  echo "TINYNET_CIFAR_DIR not set: the CIFAR-10 subset run is skipped"
fi

echo "== 4. NCCL communicator (one rank per GPU)"
if grep -q "^TINYNET_WITH_NCCL:BOOL=ON" "$build/CMakeCache.txt"; then
  cmake --build "$build" -j"$jobs" --target test_nccl_communicator
  gpus="$(nvidia-smi -L | wc -l)"
  root_flag=()
  [ "$(id -u)" -eq 0 ] && root_flag=(--allow-run-as-root)
  mpirun -np "$gpus" --oversubscribe "${root_flag[@]}" "$build/tests/test_nccl_communicator"
else
  echo "MPI or NCCL not found (openmpi-bin libopenmpi-dev; NCCL under the CUDA toolkit): the NCCL test is skipped"
fi
