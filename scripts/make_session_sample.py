#!/usr/bin/env python3
"""Writes audio/mmaf-session.wav: three AN4 utterances of one speaker in one file, with pauses.

The AN4 speaker mmaf (held out of the default model's training) said "START",
"FIVE TWO SEVEN" and "ENTER NINETY FIVE" (an54, cen3, an55) in one recording
session with one microphone. Their clips are kept whole, each with its own
leading and trailing silence, and joined by 0.8 s and 1.1 s of the room's
background, with 1 s of it before the first and after the last: a short voice
memo read as people make them. The background is white noise at the level of
the quietest 100 ms of the three clips (seeded), so the pauses sound like the
clips' own silence.

    python3 scripts/make_session_sample.py ../shared/data/an4 audio/mmaf-session.wav

Needs numpy only.
"""
import sys
import wave

import numpy as np


def read(path):
    with wave.open(path, "rb") as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1 and w.getframerate() == 16000
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64)


def main():
    an4, out = sys.argv[1], sys.argv[2]
    clips = [read(f"{an4}/wav/an4_clstk/mmaf/{name}.wav") for name in ("an54-mmaf-b", "cen3-mmaf-b", "an55-mmaf-b")]
    hop = 1600
    quietest = min(np.sqrt(np.mean(c[i:i + hop] ** 2)) for c in clips for i in range(0, len(c) - hop, hop // 2))
    rng = np.random.default_rng(2)
    background = lambda seconds: rng.standard_normal(int(seconds * 16000)) * quietest
    parts = [background(1.0), clips[0], background(0.8), clips[1], background(1.1), clips[2], background(1.0)]
    y = np.clip(np.round(np.concatenate(parts)), -32768, 32767).astype("<i2")
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(y.tobytes())
    print(f"{out}: {len(y) / 16000:.2f} s; background at {20 * np.log10(quietest / 32768):.1f} dBFS")


if __name__ == "__main__":
    main()
