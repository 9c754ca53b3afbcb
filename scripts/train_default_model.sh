#!/usr/bin/env bash
# Trains Hark's default model, models/an4-fsdd-recordings, in two stages: CMU AN4
# (spelled letters, digits, numbers; 16 kHz) and the Free Spoken Digit Dataset
# (isolated digits; 8 kHz, tightly trimmed), with audio augmentation for
# recordings as people make them (silence around speech, pauses, several
# utterances in one file, other voices, telephone band, noise, rooms).
# Features: 40 log-mel filterbanks, CMVN over the speech frames only, so that
# silence around the speech changes nothing. Held out, never trained on: eight
# AN4 speakers and the FSDD speaker jackson (reported on), and four more AN4
# speakers, on which the word confidences' calibration is fitted.
# Run from the repository root:
#   bash scripts/train_default_model.sh [AN4_DIR] [FSDD_DIR]
# Writes manifests to build/default/, the runs (checkpoints, logs) to
# build/default/stage1/ and stage2/, and the model to models/an4-fsdd-recordings/.
# (Earlier defaults: models/an4-blstm, AN4 alone; models/an4-fsdd-blstm, both
# corpora with --augment and per-utterance CMVN over all frames.)
set -euo pipefail
an4=${1:-../shared/data/an4}
fsdd=${2:-../shared/data/fsdd}
work=build/default
out=models/an4-fsdd-recordings
mkdir -p "$work"
swift build -c release --product hark
hark=.build/release/hark

# AN4: the bundled samples audio/an52-mmaf-b.wav and audio/mmaf-session.wav are from a held-out speaker.
"$hark" manifest "$an4" -o "$work/an4-all-train.jsonl" \
  --valid-speakers fash,fkai,flmm2,mcel,mjda,mmaf,mrcb,mtcv --valid-output "$work/an4-valid.jsonl"
# Four training-split speakers are held out too, for the calibration of the confidences.
grep -E '"speaker": ?"(fbbh|fclc|mblb|mblw)"' "$work/an4-all-train.jsonl" > "$work/an4-calibration.jsonl"
grep -vE '"speaker": ?"(fbbh|fclc|mblb|mblw)"' "$work/an4-all-train.jsonl" > "$work/an4-train.jsonl"
# FSDD: {digit}_{speaker}_{take}.wav, the digit spoken as a word. The bundled
# sample audio/7_jackson_0.wav is from the held-out speaker.
words=(ZERO ONE TWO THREE FOUR FIVE SIX SEVEN EIGHT NINE)
: > "$work/fsdd-train.jsonl"; : > "$work/fsdd-valid.jsonl"
for f in "$(cd "$fsdd/recordings" && pwd)"/*.wav; do
  name=$(basename "$f" .wav); digit=${name%%_*}; rest=${name#*_}; speaker=${rest%_*}
  line="{\"audio_filepath\": \"$f\", \"speaker\": \"$speaker\", \"text\": \"${words[$digit]}\"}"
  if [ "$speaker" = jackson ]; then echo "$line" >> "$work/fsdd-valid.jsonl"; else echo "$line" >> "$work/fsdd-train.jsonl"; fi
done
# Stage 2 lists AN4 twice. Each utterance weighs the same in the loss, and
# FSDD's 2,000 one-word clips would otherwise make 70% of the batches.
cat "$work/an4-train.jsonl" "$work/an4-train.jsonl" "$work/fsdd-train.jsonl" > "$work/train.jsonl"
cat "$work/an4-valid.jsonl" "$work/fsdd-valid.jsonl" > "$work/valid.jsonl"

# Stage 1: AN4 alone, clean, SpecAugment only.
# Stage 2: from it, AN4 and FSDD with augmentation for recordings at stage 2's rates of noise,
# telephone band and reverberation.
start=$(date +%s)
"$hark" train --train "$work/an4-train.jsonl" --valid "$work/an4-valid.jsonl" --out "$work/stage1" \
  --seed 1 --epochs 200 --patience 40 --batch-size 16 --optimizer adam --lr 2e-3 --warmup-steps 300 \
  --cell lstm --hidden-size 128 --num-layers 3 --bidirectional true --dropout 0.3 --stack-frames 3 \
  --spec-augment on --clip 5 --type fbank --num-mel-bins 40 --cmvn meanvar --cmvn-frames speech
echo "stage 1 took $(( $(date +%s) - start )) s"
start2=$(date +%s)
"$hark" train --train "$work/train.jsonl" --valid "$work/valid.jsonl" --out "$work/stage2" \
  --init "$work/stage1" --seed 1 --epochs 34 --patience 12 --batch-size 24 --optimizer adam --lr 1e-3 \
  --warmup-steps 200 --final-lr-fraction 0.05 --spec-augment on --clip 5 --augment-recordings \
  --noise-prob 0.3 --noise-snr 10:30 --telephone-prob 0.3 --reverb-prob 0.1
echo "stage 2 took $(( $(date +%s) - start2 )) s; in all $(( $(date +%s) - start )) s"
mkdir -p "$out"
cp "$work/stage2/config.json" "$work/stage2/model.safetensors" "$out/"
# The map that calibrates the word confidences, fitted on the four calibration speakers as
# cut and as recordings come: 8 kHz, 20 and 10 dB SNR, 1 s of silence around, sessions
# (numpy, for the conditions). The padded clips and the sessions are the clean sound again,
# so the three conditions that change the sound are listed twice: each sound weighs about
# the same in the fit.
python3 scripts/make_test_conditions.py "$work/an4-calibration.jsonl" "$work/calibration-conditions"
python3 scripts/make_recording_conditions.py "$work/an4-calibration.jsonl" "$work/fsdd-train.jsonl" "$work/calibration-recordings" --per-file 26
cat "$work/an4-calibration.jsonl" "$work"/calibration-conditions/{8k,snr20,snr10}.jsonl \
  "$work"/calibration-recordings/{padded,long}.jsonl "$work"/calibration-conditions/{8k,snr20,snr10}.jsonl \
  > "$work/calibration-all.jsonl"
"$hark" eval --model "$out" "$work/calibration-all.jsonl" --write-calibration
"$hark" eval --model "$out" "$work/an4-valid.jsonl"
"$hark" eval --model "$out" "$work/fsdd-valid.jsonl"
