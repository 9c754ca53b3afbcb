#!/usr/bin/env bash
# Wider networks tried for the default model, run by hand: the default
# model's two-stage recipe (scripts/train_default_model.sh) with HIDDEN cells
# per direction instead of 128 (256: 3.9 M parameters instead of 1.05 M),
# each stage time-boxed, the mean of its best epochs kept (--average-best).
# docs/default-model.md, "Networks tried for the default model", gives what
# it reached.
#
#   bash scripts/train_wide_model.sh [HIDDEN] [STAGE1_EPOCHS] [STAGE2_EPOCHS] [MINUTES1] [MINUTES2]
#
# Needs the manifests of scripts/train_default_model.sh in build/default;
# writes the runs to build/wide-HIDDEN/stage1 and stage2.
# A stage stops after its minutes (defaults 40 and 55) if its epochs are not
# done: its best epoch so far is then its model.
set -euo pipefail
cd "$(dirname "$0")/.."
hidden=${1:-256}
epochs1=${2:-90}
epochs2=${3:-16}
minutes1=${4:-40}
minutes2=${5:-55}
work=build/default
out=build/wide-$hidden
swift build -c release --product hark
hark=.build/release/hark
start=$(date +%s)
timeout --signal=INT "$((minutes1 * 60))" "$hark" train --train "$work/an4-train.jsonl" --valid "$work/an4-valid.jsonl" \
  --out "$out/stage1" --seed 1 --epochs "$epochs1" --patience 30 --batch-size 16 --optimizer adam --lr 2e-3 \
  --warmup-steps 300 --cell lstm --hidden-size "$hidden" --num-layers 3 --bidirectional true --dropout 0.3 \
  --stack-frames 3 --spec-augment on --clip 5 --type fbank --num-mel-bins 40 --cmvn meanvar --cmvn-frames speech \
  --average-best 3 || true
echo "stage 1 took $(($(date +%s) - start)) s"
start2=$(date +%s)
timeout --signal=INT "$((minutes2 * 60))" "$hark" train --train "$work/train.jsonl" --valid "$work/valid.jsonl" \
  --out "$out/stage2" --init "$out/stage1" --seed 1 --epochs "$epochs2" --patience 12 --batch-size 24 \
  --optimizer adam --lr 1e-3 --warmup-steps 200 --final-lr-fraction 0.05 --spec-augment on --clip 5 \
  --augment-recordings --noise-prob 0.3 --noise-snr 10:30 --telephone-prob 0.3 --reverb-prob 0.1 \
  --average-best 3 || true
echo "stage 2 took $(($(date +%s) - start2)) s; in all $(($(date +%s) - start)) s"
python3 scripts/evaluate_recordings.py "$hark" "$out/stage2"
