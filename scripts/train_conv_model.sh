#!/usr/bin/env bash
# A larger network tried for the default model, run by hand: two convolutions
# over (time, frequency) — the first subsampling time by 3, as stacking 3
# frames does — and a 3-layer bidirectional LSTM with projections (256 cells,
# 128-wide state and output per direction), trained in one stage on the
# default model's data with its recordings augmentation, the mean of the
# three best epochs kept. docs/default-model.md, "Networks tried for the
# default model", gives what it reached.
#
#   bash scripts/train_conv_model.sh [MINUTES]
#
# Needs the manifests of scripts/train_default_model.sh in build/default.
# Training stops after MINUTES (default 60): the best epoch so far is the
# model (the average of the best three only when all epochs finish).
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-60}
work=build/default
out=build/conv-lstmp
swift build -c release --product hark
hark=.build/release/hark
start=$(date +%s)
timeout --signal=INT "$((minutes * 60))" "$hark" train --train "$work/train.jsonl" --valid "$work/valid.jsonl" --out "$out" \
  --seed 1 --epochs 60 --patience 12 --batch-size 24 --optimizer adam --lr 2e-3 --warmup-steps 300 \
  --final-lr-fraction 0.05 --conv 32:3x3:3x2,32:3x3:1x2 --cell lstm --hidden-size 256 --proj-size 128 \
  --num-layers 3 --bidirectional true --dropout 0.3 --spec-augment on --clip 5 \
  --type fbank --num-mel-bins 40 --cmvn meanvar --cmvn-frames speech --average-best 3 \
  --augment-recordings --noise-prob 0.3 --noise-snr 10:30 --telephone-prob 0.3 --reverb-prob 0.1 || true
echo "training took $(( $(date +%s) - start )) s"
python3 scripts/evaluate_recordings.py "$hark" "$out"
