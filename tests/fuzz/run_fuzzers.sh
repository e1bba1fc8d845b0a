#!/usr/bin/env bash
# Builds the libFuzzer targets of the file readers with clang (AddressSanitizer and
# UndefinedBehaviorSanitizer on), writes their seed corpora and runs each target for a while.
# Prints one line per target: wall and CPU seconds, executions, coverage (edges), corpus size,
# peak RSS (CPU seconds count the fork-mode children too; on a busy machine they fall below the
# wall seconds, and they are what a "CPU-hour of fuzzing" adds up). Exits
# non-zero on any crash, sanitizer report, leak, uncaught exception, an error message that
# does not name the file, or an allocation above the cap (-malloc_limit_mb).
# Exception: Debian's libhdf5 1.10.8 has memory-safety bugs and hangs on malformed files
# (docs/loaders.md). fuzz_keras_hdf5 runs in fork mode and keeps going past them; each input it
# saved is run again (with an 8 GB RSS limit: the 2 GB limit's report has no stack), and only
# a finding whose innermost non-runtime frame is outside libhdf5 fails the run (the others are
# counted as "libhdf5 findings").
# Usage: tests/fuzz/run_fuzzers.sh [seconds-per-target] [build-dir] [jobs] [parallel]
#   default 10 s per target (the CI smoke run); e.g. 3600 for an hour per target. jobs: build
#   jobs; parallel: targets fuzzed at the same time (default 1), one core each.
#   FUZZ_TARGETS="name ..." runs only those targets; FUZZ_SECONDS_<target>=N gives one target
#   another time (e.g. FUZZ_SECONDS_fuzz_checkpoint=600).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
seconds="${1:-10}"
build="${2:-$root/build-fuzz}"
jobs="${3:-$(nproc 2>/dev/null || echo 2)}"
parallel="${4:-1}"
malloc_limit_mb=512

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
      -DTINYNET_BUILD_FUZZERS=ON -DTINYNET_BUILD_EXAMPLES=OFF -DTINYNET_BUILD_BENCHMARKS=OFF -DTINYNET_WERROR=ON > /dev/null
targets=(fuzz_cifar_binary fuzz_image_decode fuzz_tfjs_model fuzz_checkpoint)
if grep -q "TINYNET_WITH_HDF5:BOOL=ON" "$build/CMakeCache.txt"; then targets+=(fuzz_keras_hdf5); fi
if [ -n "${FUZZ_TARGETS:-}" ]; then  # a subset, e.g. FUZZ_TARGETS="fuzz_checkpoint fuzz_tfjs_model"
  for t in $FUZZ_TARGETS; do
    [[ " ${targets[*]} " == *" $t "* ]] || { echo "FUZZ_TARGETS: '$t' is not one of: ${targets[*]}" >&2; exit 2; }
  done
  read -r -a targets <<< "$FUZZ_TARGETS"
fi
cmake --build "$build" -j"$jobs" --target fuzz_seeds "${targets[@]}"

corpus="$build/fuzz_corpus"
"$build/tests/fuzz/fuzz_seeds" "$corpus/seeds" > /dev/null
if [ -n "${targets[4]:-}" ]; then
  if /usr/bin/python3 -c "import h5py" 2> /dev/null; then
    /usr/bin/python3 "$root/tests/fuzz/make_keras_seed.py" "$corpus/seeds/fuzz_keras_hdf5"
  else
    echo "python3-h5py missing: fuzz_keras_hdf5 starts without seeds"
    mkdir -p "$corpus/seeds/fuzz_keras_hdf5"
  fi
fi

# ensures: exit 0 when the sanitizer/libFuzzer report in log $1 has, as its innermost frame
# outside the runtimes and libc, one in libhdf5.
in_libhdf5() {
  grep -E '^ +#[0-9]+ 0x' "$1" |
    grep -vE 'libclang_rt|sanitizer|__interceptor|fuzzer::|libc\.so|sysdeps/|__asan|__ubsan| in (malloc|calloc|realloc|free|mem(cpy|move|set)|str[a-z]*|__(mem|str)[a-z_]*) ' |
    head -1 | grep -q libhdf5
}

# The targets' scratch files: in memory where /dev/shm is (the checkpoint writer's fsync on a
# disk left the fuzzers waiting on I/O half the time), one folder per invocation.
scratch_root="$build"
[ -d /dev/shm ] && [ -w /dev/shm ] && scratch_root=/dev/shm
export TMPDIR="$(mktemp -d "$scratch_root/tinynet_fuzz.XXXXXX")"
# ensures: target $1 fuzzed; its summary line in fuzz_logs/$1.summary, its verdicts on stdout,
# fuzz_logs/$1.failed created when it failed.
fuzz_target() {
  local t=$1 log="$build/fuzz_logs/$1.log" external=0 fork=() runs cov rss files cpu
  local seconds_variable="FUZZ_SECONDS_$1"
  local seconds="${!seconds_variable:-$seconds}"
  rm -f "$build/fuzz_logs/$t-"* "$build/fuzz_logs/$t.failed"
  [ "$t" = fuzz_keras_hdf5 ] && fork=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
  local timer=()   # CPU seconds need GNU time (Debian's "time"); without it the column says "?"
  [ -x /usr/bin/time ] && timer=(/usr/bin/time -f '%U %S' -o "$build/fuzz_logs/$t.cputime")
  rm -f "$build/fuzz_logs/$t.cputime"
  if ! "${timer[@]}" "$build/tests/fuzz/$t" "$corpus/$t" "$corpus/seeds/$t" -max_total_time="$seconds" -max_len=65536 \
       -malloc_limit_mb=$malloc_limit_mb -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 "${fork[@]}" \
       -artifact_prefix="$build/fuzz_logs/$t-" > "$log" 2>&1 && [ ${#fork[@]} -eq 0 ]; then
    touch "$build/fuzz_logs/$t.failed"
    echo "$t: FAILED, see $log (the input is saved as $build/fuzz_logs/$t-*)"
  fi
  for input in $( [ ${#fork[@]} -gt 0 ] && ls "$build/fuzz_logs/$t-"* 2> /dev/null); do
    if timeout 30 "$build/tests/fuzz/$t" -timeout=10 -malloc_limit_mb=$malloc_limit_mb -rss_limit_mb=8192 "$input" > "$input.log" 2>&1; then
      echo "$t: $input did not reproduce (fork mode saves an empty input when it cannot tell which one failed)"
    elif in_libhdf5 "$input.log"; then
      external=$((external + 1))
    else
      touch "$build/fuzz_logs/$t.failed"
      echo "$t: FAILED on $input (outside libhdf5), see $input.log"
    fi
  done
  [ $external -gt 0 ] && echo "$t: $external libhdf5 finding(s), inputs in $build/fuzz_logs/$t-*"
  # (a fork-mode log has no final stats: every grep may find nothing, which is no failure)
  runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{print $2}' | tail -1 || true)
  [ -z "$runs" ] && runs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#' || true)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | awk '{print $2}' || true)
  rss=$(grep 'stat::peak_rss_mb:' "$log" | awk '{print $2}' | tail -1 || true)
  files=$(find "$corpus/$t" -type f | wc -l)
  # (GNU time puts "Command exited with non-zero status N" before the times when the target failed)
  cpu=$(tail -n 1 "$build/fuzz_logs/$t.cputime" 2> /dev/null | awk '{printf "%d", $1 + $2}' || true)
  printf '%-18s %8s %8s %12s %10s %8s %8s\n' "$t" "$seconds" "${cpu:-?}" "${runs:-?}" "${cov:-?}" "$files" "${rss:-?}" \
    > "$build/fuzz_logs/$t.summary"
}

export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
mkdir -p "$build/fuzz_logs"
for t in "${targets[@]}"; do
  mkdir -p "$corpus/$t"
  fuzz_target "$t" &
  while [ "$(jobs -rp | wc -l)" -ge "$parallel" ]; do wait -n || true; done
done
wait
failed=0
printf '%-18s %8s %8s %12s %10s %8s %8s\n' target seconds cpu_s executions "cov(edges)" corpus "rss(MB)"
for t in "${targets[@]}"; do
  cat "$build/fuzz_logs/$t.summary" 2> /dev/null || echo "$t: no summary (the run was cut short)"
  [ -f "$build/fuzz_logs/$t.failed" ] || [ ! -f "$build/fuzz_logs/$t.summary" ] && failed=1
done
rm -rf "$TMPDIR"
exit $failed
