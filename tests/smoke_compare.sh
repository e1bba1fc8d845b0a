#!/usr/bin/env bash
# End-to-end smoke run of the main job on a tiny synthetic dataset:
#   smoke_compare.sh MAKE_INPUTS_EXE CIFAR_COMPARE_EXE WORK_DIR
# Checks that cifar_compare trains both models, writes every report file, reuses finished
# runs when rerun, that predict/evaluate work on the saved models, and that --quick writes
# beside (not into) the full job's folder; built with ONNX, that --onnx exports both models.
set -euo pipefail
make_inputs="$1" compare="$2" work="$3"
rm -rf "$work" && mkdir -p "$work"
"$make_inputs" "$work/inputs"
common=(--data "$work/inputs" --weights "$work/inputs/resnet50_random.tnck" --out "$work/report"
        --scratch-epochs 2 --resnet50-epochs 1 --size 32 --batch 25 --workers 1)
"$compare" "${common[@]}" | tee "$work/first.log"
for f in report.md report.html results.json accuracy.svg loss.svg per_class.svg \
         confusion_scratch_cnn.svg confusion_resnet50.svg mistakes_scratch_cnn.png mistakes_resnet50.png \
         scratch_cnn/model.tnck scratch_cnn/history.csv resnet50/metrics.json; do
  [ -s "$work/report/$f" ] || { echo "missing report file: $f"; exit 1; }
done
grep -q "scratch_cnn" "$work/report/report.md"
grep -q "resnet50" "$work/report/report.md"
onnx=()  # built with ONNX: the rerun also exports both models (checked by onnx.checker when python has onnx)
help_text="$("$compare" --help)"
[[ "$help_text" == *"--onnx"* ]] && onnx=(--onnx)
"$compare" "${common[@]}" "${onnx[@]}" > "$work/second.log"
grep -q "finished earlier, reusing" "$work/second.log" || { echo "rerun did not reuse the finished runs"; exit 1; }
if [ ${#onnx[@]} -gt 0 ]; then
  for run in scratch_cnn resnet50; do
    [ -s "$work/report/$run/model.onnx" ] || { echo "--onnx did not write $run/model.onnx"; exit 1; }
  done
  if /usr/bin/python3 -c "import onnx" 2> /dev/null; then
    /usr/bin/python3 -c "import onnx, sys; [onnx.checker.check_model(onnx.load(p), full_check=True) for p in sys.argv[1:]]" \
      "$work/report/scratch_cnn/model.onnx" "$work/report/resnet50/model.onnx"
  fi
fi
"$compare" evaluate --run "$work/report/scratch_cnn" --data "$work/inputs" | grep -q "accuracy"
python_png="$work/report/mistakes_scratch_cnn.png"
"$compare" predict --run "$work/report/scratch_cnn" --images "$python_png" | grep -q "%"
"$compare" --quick --data "$work/inputs" --out "$work/q" --skip-resnet50 --scratch-epochs 1 --batch 25 --workers 1 \
  > "$work/quick.log"
[ -s "$work/q-quick/report.md" ] || { echo "--quick did not write to <out>-quick"; exit 1; }
grep -q "A quick look (--quick), not the study" "$work/q-quick/report.md" || { echo "--quick report does not say so"; exit 1; }
[ ! -e "$work/q" ] || { echo "--quick wrote into the full job's folder"; exit 1; }
echo "smoke run of cifar_compare: report complete, rerun reused the runs, predict and evaluate work"
