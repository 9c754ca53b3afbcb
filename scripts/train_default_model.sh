#!/usr/bin/env bash
# Trains Hark's default model, models/an4-blstm, on CMU AN4 (../shared/data/an4 by
# default) with eight speakers held out for validation. Run from the
# repository root:
#   bash scripts/train_default_model.sh [AN4_DIR]
# Writes manifests to build/an4/, the run (checkpoint, log) to build/an4/run/,
# and copies the best model (config.json + model.safetensors) to models/an4-blstm/.
set -euo pipefail
an4=${1:-../shared/data/an4}
work=build/an4
mkdir -p "$work"
swift build -c release --product hark
hark=.build/release/hark
# Held-out speakers (4 female, 4 male), never seen in training. The bundled
# sample audio/an52-mmaf-b.wav is one of theirs.
"$hark" manifest "$an4" -o "$work/train.jsonl" \
  --valid-speakers fash,fkai,flmm2,mcel,mjda,mmaf,mrcb,mtcv --valid-output "$work/valid.jsonl"
start=$(date +%s)
"$hark" train --train "$work/train.jsonl" --valid "$work/valid.jsonl" --out "$work/run" \
  --seed 1 --epochs 200 --patience 40 --batch-size 16 --optimizer adam --lr 2e-3 --warmup-steps 300 \
  --cell lstm --hidden-size 128 --num-layers 3 --bidirectional true --dropout 0.3 --stack-frames 3 \
  --spec-augment on --clip 5 --type fbank --num-mel-bins 40 --cmvn meanvar
echo "training took $(( $(date +%s) - start )) s"
mkdir -p models/an4-blstm
cp "$work/run/config.json" "$work/run/model.safetensors" models/an4-blstm/
"$hark" eval --model models/an4-blstm "$work/valid.jsonl"
