#!/usr/bin/env bash
# The test command: installs missing Debian packages, builds tinynet with warnings as
# errors, runs the whole ctest suite, then installs tinynet into a temporary prefix and
# builds + runs a separate consumer project against it (find_package(tinynet)), then the
# sanitizer job and the fuzz smoke run (tests/run_sanitizers.sh, tests/fuzz/run_fuzzers.sh).
# Usage: tests/run_all.sh [build-dir]      (default: build-tests)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build-tests}"
jobs="$(nproc 2>/dev/null || echo 2)"

"$root/cmake/install_deps.sh" tests

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DTINYNET_WERROR=ON
cmake --build "$build" -j"$jobs"
(cd "$build" && ctest --output-on-failure -j"$jobs")

prefix="$build/install-prefix"
rm -rf "$prefix" "$build/consumer"
cmake --install "$build" --prefix "$prefix" > /dev/null
cmake -S "$root/tests/consumer" -B "$build/consumer" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release
cmake --build "$build/consumer" -j"$jobs"
"$build/consumer/readme_example"
echo "consumer project: built against the installed package and ran"

# The cuDNN backend where CUDA is installed: compile and link its test only (it runs, and skips
# with a WARN, without a GPU), so the CUDA configuration cannot rot. GPU checks: docs/cuda.md.
if [ -x /usr/local/cuda/bin/nvcc ]; then
  cuda_build="$build-cuda"
  cmake -S "$root" -B "$cuda_build" -DCMAKE_BUILD_TYPE=Release -DTINYNET_WERROR=ON -DTINYNET_WITH_CUDNN=ON \
        -DTINYNET_BUILD_EXAMPLES=ON -DTINYNET_BUILD_BENCHMARKS=OFF > /dev/null
  cmake --build "$cuda_build" -j"$jobs" --target test_backend_ops cifar_scratch
  "$cuda_build/tests/test_backend_ops"
  "$cuda_build/examples/cifar_scratch" --help | grep -- "--device" > /dev/null
  if grep -q "^TINYNET_WITH_NCCL:BOOL=ON" "$cuda_build/CMakeCache.txt"; then
    cmake --build "$cuda_build" -j"$jobs" --target test_nccl_communicator
    "$cuda_build/tests/test_nccl_communicator"  # says SKIPPED without a GPU
  fi
  echo "cuDNN backend: built and linked (cross-backend test and cifar_scratch with --device cuda)"
fi

# The readers and the data pipeline under AddressSanitizer + UndefinedBehaviorSanitizer, and a
# 10-second run of every fuzz target where clang is installed (docs/loaders.md).
"$root/tests/run_sanitizers.sh" "$build-asan" "$jobs"
if command -v clang++ > /dev/null; then
  "$root/tests/fuzz/run_fuzzers.sh" 10 "$build-fuzz" "$jobs"
else
  echo "clang++ not installed: fuzz smoke run skipped (cmake/install_deps.sh tests installs clang)"
fi
