#!/usr/bin/env bash
# cifar_scratch under mpirun on a tiny synthetic dataset: 2 ranks train, rank 0 alone prints
# and writes the run's files; the run resumes with 1 rank from the checkpoint 2 ranks wrote;
# --ranks 2 in a process started alone says how to launch.
#   smoke_scratch.sh MAKE_INPUTS_EXE CIFAR_SCRATCH_EXE WORK_DIR
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
make_inputs="$1" scratch="$2" work="$3"
rm -rf "$work" && mkdir -p "$work"
"$make_inputs" "$work/inputs" > /dev/null
common=(--data "$work/inputs" --out "$work/run" --batch 24 --workers 1 --validation 0.2)
"$here/mpirun.sh" 2 "$scratch" "${common[@]}" --epochs 1 --sync-bn --bucket-mb 0.5 | tee "$work/two.log"
[ "$(grep -c "Test accuracy" "$work/two.log")" -eq 1 ] || { echo "FAIL: not exactly one rank reported"; exit 1; }
grep -q "threads on each of 2 ranks (MPI" "$work/two.log" || { echo "FAIL: no 2-rank banner"; exit 1; }
grep -q '"device": "2 ranks x cpu' "$work/run/metrics.json" || { echo "FAIL: metrics.json does not name 2 ranks"; exit 1; }
"$scratch" "${common[@]}" --epochs 2 --resume | tee "$work/one.log"
grep -q "resumed from .* after epoch 1" "$work/one.log" || { echo "FAIL: 1 rank did not resume the 2-rank run"; exit 1; }
[ "$(grep -c "^Epoch 2/2 -" "$work/one.log")" -eq 1 ] || { echo "FAIL: epoch 2 not trained once"; exit 1; }
if message="$("$scratch" "${common[@]}" --ranks 2 2>&1)"; then
  echo "FAIL: --ranks 2 without mpirun succeeded"; exit 1
fi
grep -q "this is rank 0 of 1, but --ranks 2 was asked: start all ranks together with \`mpirun -np 2" <<< "$message" ||
  { echo "FAIL: --ranks message: $message"; exit 1; }
echo "PASS: 2 ranks trained and rank 0 wrote the run; 1 rank resumed it; --ranks said how to launch"
