#!/usr/bin/env bash
# Real-browser check of Hark's pictures and reports: makes a `hark plot`
# figure of a bundled sample, the report of a short training run (on the four
# utterances of Tests/HarkCLITests/Fixtures/tiny) and an evaluation report of
# the default model, then renders each report with headless Chromium
# (`chromium --headless --screenshot`) and checks every screenshot: a PNG of
# the window's size that is not blank.
#
#   bash scripts/report_screenshots.sh [HARK_BINARY] [OUT_DIR] [EVAL_MANIFEST] [RUN_DIR]
#
# Defaults: .build/release/hark, a temporary directory, a manifest of the
# bundled samples and the tiny fixtures, and a fresh 3-epoch run. The
# pictures in docs/ were made with OUT_DIR=docs, the held-out AN4 manifest and
# a real run (see docs/eval-and-reports.md, "Pictures and reports").
# Needs Debian's chromium (no driver, no Python).
set -euo pipefail
HARK=${1:-.build/release/hark}
OUT=${2:-}
MANIFEST=${3:-}
RUN=${4:-}
fail() { echo "report screenshots: FAILED: $*" >&2; exit 1; }
command -v chromium >/dev/null || fail "chromium not found (apt-get install chromium)"
[ -x "$HARK" ] || fail "no hark binary at $HARK"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
[ -n "$OUT" ] || OUT=$TMP/out
mkdir -p "$OUT"
root=$(pwd)

if [ -z "$MANIFEST" ]; then
  MANIFEST=$TMP/eval.jsonl
  { printf '{"audio_filepath": "%s", "text": "ENTER SEVEN"}\n' "$root/audio/an52-mmaf-b.wav"
    printf '{"audio_filepath": "%s", "text": "SEVEN"}\n' "$root/audio/7_jackson_0.wav"
    sed "s#\"audio_filepath\": *\"#\"audio_filepath\": \"$root/Tests/HarkCLITests/Fixtures/tiny/#" Tests/HarkCLITests/Fixtures/tiny/train.jsonl
  } > "$MANIFEST"
fi
if [ -z "$RUN" ]; then
  RUN=$TMP/run
  "$HARK" train --train Tests/HarkCLITests/Fixtures/tiny/train.jsonl --valid Tests/HarkCLITests/Fixtures/tiny/train.jsonl \
    --out "$RUN" --epochs 3 --hidden-size 16 --num-layers 1 --batch-size 2 >/dev/null 2>"$TMP/train.log" \
    || { cat "$TMP/train.log" >&2; fail "the short training run failed"; }
fi

"$HARK" plot audio/an52-mmaf-b.wav --model models/an4-blstm -o "$OUT/plot.png" 2>/dev/null || fail "hark plot failed"
"$HARK" report "$RUN" -o "$TMP/train-report.html" 2>/dev/null || fail "hark report failed"
# eval exits 1 when an input fails; the report is still written.
"$HARK" eval "$MANIFEST" --report "$TMP/eval-report.html" >/dev/null 2>"$TMP/eval.log" || true
[ -s "$TMP/eval-report.html" ] || { cat "$TMP/eval.log" >&2; fail "hark eval --report wrote no report"; }

# png_size FILE prints "WIDTH HEIGHT" from the PNG's IHDR chunk.
png_size() {
  [ "$(head -c 8 "$1" | od -An -t x1 | tr -d ' \n')" = 89504e470d0a1a0a ] || return 1
  echo "$(od -An -t u1 -j 16 -N 4 "$1" | awk '{print $1*16777216+$2*65536+$3*256+$4}') $(od -An -t u1 -j 20 -N 4 "$1" | awk '{print $1*16777216+$2*65536+$3*256+$4}')"
}
width=1280 height=${SHOT_HEIGHT:-2000}
for name in train-report eval-report; do
  shot=$OUT/$name.png
  rm -f "$shot"
  timeout 120 chromium --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --hide-scrollbars \
    --window-size=$width,$height --screenshot="$shot" "file://$TMP/$name.html" >/dev/null 2>"$TMP/chromium.log" \
    || { tail -5 "$TMP/chromium.log" >&2; fail "chromium could not render $name.html"; }
  size=$(png_size "$shot") || fail "$shot is not a PNG"
  [ "$size" = "$width $height" ] || fail "$shot is $size, not $width $height"
  # A blank page compresses to a few kilobytes; a rendered report with its charts to far more.
  bytes=$(wc -c <"$shot")
  [ "$bytes" -gt 40000 ] || fail "$shot looks blank ($bytes bytes)"
  cp "$TMP/$name.html" "$OUT/$name.html"
done
size=$(png_size "$OUT/plot.png") || fail "plot.png is not a PNG"
echo "report screenshots: passed (plot.png ${size/ /×}; train-report.png and eval-report.png rendered by $(chromium --version 2>/dev/null | head -1); in $OUT)"
