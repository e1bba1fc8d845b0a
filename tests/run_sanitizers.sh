#!/usr/bin/env bash
# The sanitizer job: builds the tests of every file reader and of the data pipeline with
# AddressSanitizer + UndefinedBehaviorSanitizer (-fsanitize=address,undefined, any report is
# fatal) and runs them: test_data_readers (CIFAR binary, image folders, load_dataset),
# test_weight_files (TF.js, Keras HDF5, checkpoints, the atomic writer), test_data_pipeline
# (batch loader workers, augmentation, resize, whitening). ThreadSanitizer: TSAN=1 builds
# test_data_pipeline and test_data_readers with clang -fsanitize=thread instead.
# Usage: tests/run_sanitizers.sh [build-dir] [jobs]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
jobs="${2:-$(nproc 2>/dev/null || echo 2)}"
compiler=()
warnings=""
if [ "${TSAN:-0}" = 1 ]; then
  # clang with LLVM's OpenMP and its Archer tool: GCC's libgomp is not instrumented, so TSan
  # would take every OpenMP fork for a race (it reports resize_bilinear's first parallel loop).
  build="${1:-$root/build-tsan}"
  flags="-fsanitize=thread -g -O1"
  targets=(test_data_pipeline test_data_readers)
  compiler=(-DCMAKE_CXX_COMPILER=clang++)
  export OMP_TOOL_LIBRARIES=/usr/lib/llvm-14/lib/libarcher.so  # from libomp-dev
  export TSAN_OPTIONS=ignore_noninstrumented_modules=1:halt_on_error=1  # also for the build's test listing
else
  build="${1:-$root/build-asan}"
  flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g -O1"
  targets=(test_data_readers test_weight_files test_data_pipeline)
  # GCC 12 at -O1 with -march=native on AVX-512 takes its intrinsic headers' deliberately
  # undefined values (`__m512 __Y = __Y;`, in Eigen's 16 x 16 transpose) for uninitialised
  # ones; the Release build keeps that warning.
  warnings="-Wno-uninitialized"
fi
# test_data_pipeline: the loader, augmentation, resize and whitening cases (its whitened-CNN
# training and gradient checks take minutes under the sanitizers and exercise no reader).
declare -A test_filter=([test_data_pipeline]="[augment],[batch_loader],[resize],[whitening]")
cmake -S "$root" -B "$build" "${compiler[@]}" -DCMAKE_BUILD_TYPE=Debug -DTINYNET_WERROR=ON -DTINYNET_BUILD_EXAMPLES=OFF \
      -DTINYNET_BUILD_BENCHMARKS=OFF -DCMAKE_CXX_FLAGS="$flags $warnings" -DCMAKE_EXE_LINKER_FLAGS="$flags" > /dev/null
cmake --build "$build" -j"$jobs" --target "${targets[@]}"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export TINYNET_SHARED_DIR="${TINYNET_SHARED_DIR:-$root/../shared}"
for t in "${targets[@]}"; do
  (cd "$root/tests" && "$build/tests/$t" ${test_filter[$t]:+"${test_filter[$t]}"})
done
echo "sanitizer job (${flags%% *}): ${targets[*]} passed"
