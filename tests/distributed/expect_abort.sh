#!/usr/bin/env bash
# A rank that throws ends every rank, with its message, within seconds.
# Usage: tests/distributed/expect_abort.sh RANK_FAILURE_PROGRAM RANKS FAIL_RANK
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
program="$1" ranks="$2" fail_rank="$3"
start_ms=$(( $(date +%s%N) / 1000000 ))
output="$(timeout 60 "$here/mpirun.sh" "$ranks" "$program" "$fail_rank" 2>&1)"
status=$?
elapsed_ms=$(( $(date +%s%N) / 1000000 - start_ms ))
seconds="$((elapsed_ms / 1000)).$(printf %03d $((elapsed_ms % 1000)))"
echo "$output"
echo "exit status $status after $seconds s"
[ "$status" -ne 124 ] || { echo "FAIL: the job hung (killed after 60 s)"; exit 1; }
[ "$status" -ne 0 ] || { echo "FAIL: the job exited 0"; exit 1; }
grep -q "tinynet rank $fail_rank of $ranks: rank_failure: simulated failure on rank $fail_rank at step 3" <<< "$output" ||
  { echo "FAIL: the failing rank's message is missing"; exit 1; }
[ "$elapsed_ms" -lt 20000 ] || { echo "FAIL: took $seconds s"; exit 1; }
echo "PASS: all $ranks ranks ended in $seconds s with rank $fail_rank's message"
