#!/usr/bin/env python3
"""Writes where speech starts in each held-out AN4 utterance, by an outside voice-activity detector.

    python3 scripts/make_onset_reference.py MANIFEST... -o scripts/reference/an4-speech-onsets.json

The reference that scripts/evaluate_recordings.py holds the first word's start
to on the padded utterances: the start of the first speech segment that Silero
VAD (the `silero-vad` package from PyPI, the detector of faster-whisper's
vad_filter and of WhisperX) finds in each clip as cut, with its default
threshold (0.5) and no padding (speech_pad_ms=0), in seconds from the clip's
start. An energy rule (scripts/make_recording_conditions.py) takes the breaths,
lip noise and the click of a cut that come before many AN4 utterances for
their onset; a detector trained on speech does not. Its own error: it can
start late on a quiet fricative (/s/, /f/, /θ/) that opens an utterance.

Needs: pip install silero-vad soundfile (torch and torchaudio come with it).
The file records the versions and the command.
"""
import argparse
import importlib.metadata
import json
import os
import sys

import soundfile
import torch
from silero_vad import get_speech_timestamps, load_silero_vad


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("manifests", nargs="+", help="JSONL manifests of AN4 clips (audio_filepath)")
    ap.add_argument("-o", "--output", required=True)
    args = ap.parse_args()
    torch.set_num_threads(1)
    model = load_silero_vad()
    onsets = {}
    for manifest in args.manifests:
        for line in open(manifest):
            path = json.loads(line)["audio_filepath"]
            x, rate = soundfile.read(path, dtype="float32")
            spans = get_speech_timestamps(torch.from_numpy(x), model, sampling_rate=rate, speech_pad_ms=0)
            key = os.path.splitext(os.path.basename(path))[0]
            onsets[key] = round(spans[0]["start"] / rate, 3) if spans else None
    versions = {p: importlib.metadata.version(p) for p in ("silero-vad", "torch", "torchaudio", "soundfile")}
    result = {
        "what": "start of the first speech segment of each clip as cut, seconds (Silero VAD, threshold 0.5, speech_pad_ms 0)",
        "versions": versions,
        "command": "python3 scripts/make_onset_reference.py " + " ".join(sys.argv[1:]),
        "onsets": dict(sorted(onsets.items())),
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with open(args.output, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    print(f"{len(onsets)} clips, {sum(v is None for v in onsets.values())} without speech -> {args.output}")


if __name__ == "__main__":
    main()
