#!/usr/bin/env bash
# benchmarks/compare.sh: tinynet vs PyTorch, training and inference images/s, side by side.
#
#   benchmarks/compare.sh [table.md]        (default: docs/performance-table.md)
#
# Builds tinynet_train_bench (Release) in $BUILD_DIR (default build-bench), then for each
# model runs tinynet and PyTorch alternately (A B A B ..., $ROUNDS rounds each; each run
# reports the median of $REPEATS timed repeats of both phases) and writes a Markdown table
# of the medians over the rounds, with every run's value, the commands, the machine and the
# load average before and after, to stdout and to the table file.
# Models: scratch (the notebook CNN), resnet50 (Keras' v1 on both sides) and
# torchvision_resnet50 (PyTorch's torchvision resnet50() against tinynet's Keras v1: the model
# each side's user would pick; needs python3-torchvision).
# Settings (environment): ROUNDS=3 REPEATS=5 THREADS=2 BATCH=64 INFER_BATCH=256
# MODELS="scratch resnet50 torchvision_resnet50" BUILD_DIR=<repo>/build-bench PYTHON=/usr/bin/python3. OMP_*/GOMP_*
# variables (e.g. OMP_WAIT_POLICY=passive on a shared machine) reach both programs and are recorded.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-$repo/docs/performance-table.md}
build=${BUILD_DIR:-$repo/build-bench}
rounds=${ROUNDS:-3}
repeats=${REPEATS:-5}
threads=${THREADS:-2}
batch=${BATCH:-64}
infer_batch=${INFER_BATCH:-256}
models=${MODELS:-scratch resnet50 torchvision_resnet50}
python=${PYTHON:-/usr/bin/python3}

log() { echo "compare.sh: $*" >&2; }

log "building tinynet_train_bench (Release) in $build"
cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --target tinynet_train_bench -j"$threads" >/dev/null

common=(--batch "$batch" --infer-batch "$infer_batch" --threads "$threads" --repeats "$repeats" --phase both)
tinynet_cmd=("$build/benchmarks/tinynet_train_bench" "${common[@]}")
pytorch_cmd=(env OPENBLAS_NUM_THREADS=1 "$python" "$repo/benchmarks/compare_pytorch.py" "${common[@]}")

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date -u '+%Y-%m-%d %H:%M UTC')
raw=$(mktemp)
trap 'rm -f "$raw"' EXIT

for model in $models; do
  for ((round = 1; round <= rounds; ++round)); do
    for side in tinynet pytorch; do
      log "$model round $round/$rounds: $side"
      if [[ $side == tinynet ]]; then
        # tinynet's ResNet50 is Keras' v1 in both ResNet50 rows; its lines carry the row's name
        "${tinynet_cmd[@]}" --model "${model#torchvision_}" | sed "s/^tinynet ${model#torchvision_} /tinynet $model /" |
          tee -a "$raw" >&2
      else
        "${pytorch_cmd[@]}" --model "$model" | tee -a "$raw" >&2
      fi
    done
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

cpu_flags=$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -x -E 'avx2|fma|avx512f|avx512bw|avx512vl|avx512_vnni|amx_tile' | tr '\n' ' ' || true)
machine="$(lscpu | sed -n 's/^Model name: *//p' | head -n1), nproc $(nproc), CPU flags: ${cpu_flags:-no AVX2}"
omp_environment=$(env | grep -E '^(OMP|GOMP|KMP|OPENBLAS|MKL)_' | sort | tr '\n' ' ' || true)
torch_version=$("$python" -c 'import torch; print(torch.__version__)')
commit="$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [[ -n "$(git -C "$repo" status --porcelain 2>/dev/null)" ]]; then commit="$commit + uncommitted changes"; fi

mkdir -p "$(dirname "$out")"
"$python" - "$raw" "$out" "$started" "$machine" "$commit" "$load_before" "$load_after" \
  "${omp_environment:-none}" "$torch_version" "${tinynet_cmd[*]} --model <model>" "${pytorch_cmd[*]} --model <model>" "$rounds" <<'PY'
import statistics
import sys

(raw, out, started, machine, commit, load_before, load_after, environment, torch_version, tinynet_cmd,
 pytorch_cmd, rounds) = sys.argv[1:]
runs = {}   # (model, phase, side) -> [images/s per run]
batches = {}
for line in open(raw):
    words = line.split()
    if len(words) < 4 or words[0] not in ("tinynet", "pytorch"):
        continue
    fields = dict(w.split("=", 1) for w in words[3:] if "=" in w)
    side, model, phase = words[:3]
    runs.setdefault((model, phase, side), []).append(float(fields["images_per_s"]))
    batches[(model, phase)] = fields["batch"]

lines = [
    f"Measured {started}; machine: {machine}; tinynet commit {commit}.",
    f"Load average (1/5/15 min) before: {load_before}; after: {load_after} (the benchmark's own two threads "
    "add about 2 while it runs).",
    f"Threading environment inherited by both programs: {environment.strip()}.",
    f"Each run is the median of its timed repeats; the table gives the median over {rounds} alternating "
    "rounds (tinynet, PyTorch, tinynet, ...) and every run's value.",
    "",
    f"- tinynet: `{tinynet_cmd}`",
    f"- PyTorch {torch_version}: `{pytorch_cmd}`",
    "",
    "| model | phase | batch | tinynet img/s | PyTorch img/s | tinynet/PyTorch | tinynet runs | PyTorch runs |",
    "|---|---|---:|---:|---:|---:|---|---|",
]
row_order = ["scratch", "resnet50", "torchvision_resnet50"]
for model, phase in sorted({(m, p) for m, p, _ in runs},
                           key=lambda k: (row_order.index(k[0]) if k[0] in row_order else len(row_order), k[0],
                                          k[1] != "train")):
    t = runs.get((model, phase, "tinynet"), [])
    p = runs.get((model, phase, "pytorch"), [])
    mt = statistics.median(t) if t else float("nan")
    mp = statistics.median(p) if p else float("nan")
    ratio = mt / mp if t and p else float("nan")
    lines.append(f"| {model} | {phase} | {batches[(model, phase)]} | {mt:.1f} | {mp:.1f} | {ratio:.2f} | "
                 f"{', '.join(f'{v:.1f}' for v in t)} | {', '.join(f'{v:.1f}' for v in p)} |")
text = "\n".join(lines) + "\n"
with open(out, "w") as f:
    f.write(text)
print(text, end="")
PY
log "table written to $out"
