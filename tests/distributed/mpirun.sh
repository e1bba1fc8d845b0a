#!/usr/bin/env bash
# Runs `mpirun -np N PROGRAM ARGS...` as the tests need it on one machine: more ranks than
# cores allowed (--oversubscribe), as root too (CI runs as root), one compute thread a rank.
# Usage: tests/distributed/mpirun.sh N PROGRAM [ARGS...]
set -euo pipefail
ranks="$1"
shift
root_flag=()
[ "$(id -u)" -eq 0 ] && root_flag=(--allow-run-as-root)
exec mpirun -np "$ranks" --oversubscribe "${root_flag[@]}" --bind-to none -x TINYNET_NUM_THREADS=1 "$@"
