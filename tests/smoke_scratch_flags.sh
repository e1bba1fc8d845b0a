#!/usr/bin/env bash
# cifar_scratch's run-safety flags end to end on a tiny synthetic dataset (one thread, the
# im2col path, so that runs repeat bit for bit):
#   --resume without a checkpoint fails, naming it, and trains nothing;
#   --resume-or-start starts when there is no checkpoint, and resumes when there is one;
#   --max-loss stops a run whose batch loss passes the bound, naming the epoch and step;
#   --clip-grad-norm leaves the weights alone below the bound and changes them above it;
#   --bn-momentum changes the saved moving statistics; a momentum other than Keras' 0.99 (the
#   default 0.9 included) is recorded in metrics.json; the flag is refused with --recipe fast;
#   a run without a validation set leaves an earlier run's best.tnck alone and does not evaluate it.
#   smoke_scratch_flags.sh MAKE_INPUTS_EXE CIFAR_SCRATCH_EXE WORK_DIR
set -euo pipefail
make_inputs="$1" scratch="$2" work="$3"
rm -rf "$work" && mkdir -p "$work"
"$make_inputs" "$work/inputs" > /dev/null
export TINYNET_CONV_ALGORITHM=im2col
common=(--data "$work/inputs" --batch 25 --workers 1 --threads 1)
fail() { echo "FAIL: $*"; exit 1; }

if message="$("$scratch" "${common[@]}" --epochs 1 --out "$work/none" --resume 2>&1)"; then
  fail "--resume without a checkpoint succeeded"
fi
grep -q "no checkpoint at '$work/none/checkpoint.tnck'" <<< "$message" || fail "--resume message: $message"
[ ! -e "$work/none/model.tnck" ] || fail "--resume without a checkpoint trained a model"

"$scratch" "${common[@]}" --epochs 1 --out "$work/run" --resume-or-start > "$work/start.log"
grep -q "no checkpoint at .*, starting from scratch" "$work/start.log" || fail "--resume-or-start did not say it starts"
"$scratch" "${common[@]}" --epochs 2 --out "$work/run" --resume-or-start > "$work/resume.log"
grep -q "resumed from .* after epoch 1" "$work/resume.log" || fail "--resume-or-start did not resume"
[ "$(grep -c '^Epoch 2/2 -' "$work/resume.log")" -eq 1 ] || fail "epoch 2 was not trained once"
if grep -q '^Epoch 1/2 -' "$work/resume.log"; then fail "epoch 1 was trained again"; fi

if message="$("$scratch" "${common[@]}" --epochs 1 --out "$work/bound" --max-loss 0.01 2>&1)"; then
  fail "--max-loss 0.01 did not stop the run"
fi
grep -q "training diverged at epoch 1 step 1 .* above the bound 0.01" <<< "$message" || fail "--max-loss message: $message"

"$scratch" "${common[@]}" --epochs 1 --out "$work/plain" > /dev/null
"$scratch" "${common[@]}" --epochs 1 --out "$work/loose" --clip-grad-norm 1e9 > /dev/null
"$scratch" "${common[@]}" --epochs 1 --out "$work/tight" --clip-grad-norm 1e-3 > /dev/null
cmp -s "$work/plain/model.tnck" "$work/loose/model.tnck" || fail "a bound above every gradient norm changed the weights"
if cmp -s "$work/plain/model.tnck" "$work/tight/model.tnck"; then fail "--clip-grad-norm 1e-3 changed nothing"; fi

grep -q '"bn-momentum=0.9"' "$work/plain/metrics.json" || fail "metrics.json does not record the default momentum 0.9"
"$scratch" "${common[@]}" --epochs 1 --out "$work/momentum" --bn-momentum 0.99 > /dev/null
if cmp -s "$work/plain/model.tnck" "$work/momentum/model.tnck"; then fail "--bn-momentum 0.99 changed nothing"; fi
if grep -q 'bn-momentum' "$work/momentum/metrics.json"; then fail "metrics.json records Keras' momentum 0.99 as a change"; fi
if message="$("$scratch" "${common[@]}" --recipe fast --bn-momentum 0.9 --out "$work/fast" 2>&1)"; then
  fail "--recipe fast accepted --bn-momentum"
fi
grep -q -- "--bn-momentum applies to --recipe notebook only" <<< "$message" || fail "--bn-momentum message: $message"
"$scratch" "${common[@]}" --epochs 1 --out "$work/momentum" --validation 0 > "$work/no_validation.log"
grep -q "best.tnck is an earlier run's (this run has no validation set), left as is" "$work/no_validation.log" ||
  fail "a run without validation did not say that best.tnck is an earlier run's"
if grep -q 'best-validation checkpoint' "$work/no_validation.log"; then
  fail "a run without validation evaluated an earlier run's best.tnck"
fi
echo "PASS: --resume refused, --resume-or-start started then resumed, --max-loss stopped the run, --clip-grad-norm clipped, --bn-momentum applied and recorded, an earlier best.tnck left alone"
