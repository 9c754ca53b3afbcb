#!/usr/bin/env bash
# Writes the audio-format test fixtures: the same one-second excerpt of
# audio/an52-mmaf-b.wav in every encoding Hark's decoder is tested on.
# Needs sox (Debian: sox, libsox-fmt-all). Run from the repository root:
#   bash scripts/make_audio_fixtures.sh
set -euo pipefail
src=audio/an52-mmaf-b.wav
out=Tests/HarkAudioTests/Fixtures
mkdir -p "$out"
ref="$out/ref-s16.wav"
sox "$src" -b 16 "$ref" trim 0.5 1.0
sox "$ref" -b 8 -e unsigned-integer "$out/u8.wav"
sox "$ref" -b 24 "$out/s24.wav"
sox "$ref" -b 32 -e signed-integer "$out/s32.wav"
sox "$ref" -b 32 -e floating-point "$out/f32.wav"
sox "$ref" -b 64 -e floating-point "$out/f64.wav"
sox "$ref" -e a-law "$out/alaw.wav"
sox "$ref" -e u-law "$out/ulaw.wav"
sox "$ref" "$out/flac.flac"
sox "$ref" -C 6 "$out/vorbis.ogg"
sox "$ref" "$out/aiff.aiff"
sox "$ref" -t sph "$out/sphere.sph"
# Stereo: left = the excerpt, right = the excerpt at half amplitude.
sox "$ref" "$out/half.wav" vol 0.5
sox -M "$ref" "$out/half.wav" "$out/stereo.wav"
rm "$out/half.wav"
# 8 kHz copy, for resampling tests.
sox "$ref" -r 8000 "$out/ref-8k.wav"
echo "sox $(sox --version | sed 's/.*SoX //')" > "$out/VERSIONS"
ls -l "$out"
