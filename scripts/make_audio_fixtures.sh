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
# MP3 and Ogg Opus, which sox does not write: PyPI soundfile (its own libsndfile).
python3 - "$ref" "$out" <<'PY'
import sys, soundfile as sf
x, r = sf.read(sys.argv[1], dtype="float32")
sf.write(sys.argv[2] + "/mp3.mp3", x, r, format="MP3")
sf.write(sys.argv[2] + "/opus.ogg", x, r, format="OGG", subtype="OPUS")
print(f"mp3.mp3 and opus.ogg: PyPI soundfile {sf.__version__} with libsndfile {sf.__libsndfile_version__}")
PY
python3 -c "import soundfile as sf; print(f'mp3.mp3 and opus.ogg: PyPI soundfile {sf.__version__} with libsndfile {sf.__libsndfile_version__}')" >> "$out/VERSIONS"
ls -l "$out"
