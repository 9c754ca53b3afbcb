#!/usr/bin/env python3
"""Makes recordings as people make them from held-out clips, with the truth.

From AN4_MANIFEST (held-out AN4 utterances, JSONL with "audio_filepath" and
"text", 16-bit WAV) and FSDD_MANIFEST (a held-out FSDD speaker's digit clips,
each a word), writes into OUT_DIR:

  padded.jsonl         each AN4 utterance with 1 s of near-silence before and
                       after (white noise at -80 dBFS): a voice memo, a phone
                       recording. "clip_start" is where the clip begins,
                       "speech_start"/"speech_end" where its speech is by the
                       energy rule below.
  long.jsonl           the AN4 utterances in order, 24 or so to a file, with
                       pauses of 0.5-1.5 s between them and 0.5 s at each end,
                       on a noise floor at -70 dBFS: a session recorded in one
                       go. "segments" lists each utterance's span and text.
  fsdd-padded.jsonl    each FSDD clip with 0.5 s of near-silence (-80 dBFS)
                       before and after.
  fsdd-strings.jsonl   strings of five FSDD clips (each clip once, in a seeded
                       shuffle) with pauses of 0.3-0.8 s between them and at
                       each end, at -80 dBFS: digits read out. FSDD's clips are
                       cut tight around the word, so each clip's span is the
                       word's true time: "words" lists {"word", "start", "end"}.

The speech onset and offset of an AN4 utterance (its clip has silence of its
own) are the first and last 10 ms frame whose level is within 35 dB of the
clip's loudest frame and 15 dB above its quietest: an energy rule of this
script's own, independent of Hark's voice-activity detector.

Noise and pauses are seeded (--seed), so the conditions are the same on every
run. Times are seconds. Needs numpy only.

    python3 scripts/make_recording_conditions.py build/default/an4-valid.jsonl \\
        build/default/fsdd-valid.jsonl build/recordings
"""
import argparse
import json
import os
import wave

import numpy as np

FRAME = 0.01
PADDING = 1.0  # seconds of near-silence before and after each padded AN4 utterance


def read(path):
    with wave.open(path, "rb") as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1, f"{path}: 16-bit mono WAV expected"
        rate = w.getframerate()
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64) / 32768
    return x, rate


def write(path, x, rate):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    y = np.clip(np.round(x * 32768), -32768, 32767).astype("<i2")
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(y.tobytes())


def noise(seconds, rate, dbfs, rng):
    return rng.standard_normal(int(round(seconds * rate))) * 10 ** (dbfs / 20)


def speech_span(x, rate):
    """(start, end) in seconds of the frames within 35 dB of the loudest and 15 dB above the quietest."""
    hop = int(rate * FRAME)
    n = len(x) // hop
    frames = x[: n * hop].reshape(n, hop)
    frames = frames - frames.mean(axis=1, keepdims=True)
    level = 10 * np.log10(np.maximum((frames ** 2).mean(axis=1), 1e-12))
    threshold = max(level.max() - 35, level.min() + 15)
    voiced = np.nonzero(level >= threshold)[0]
    return voiced[0] * FRAME, (voiced[-1] + 1) * FRAME


def entries(manifest):
    base = os.path.dirname(os.path.abspath(manifest))
    out = []
    for line in open(manifest):
        if line.strip():
            e = json.loads(line)
            if not os.path.isabs(e["audio_filepath"]):
                e["audio_filepath"] = os.path.join(base, e["audio_filepath"])
            out.append(e)
    return out


def dump(path, rows):
    with open(path, "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("an4_manifest")
    ap.add_argument("fsdd_manifest")
    ap.add_argument("out_dir")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--per-file", type=int, default=24, help="AN4 utterances per long file (the last file takes the rest)")
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    out = os.path.abspath(args.out_dir)
    an4, fsdd = entries(args.an4_manifest), entries(args.fsdd_manifest)

    rows = []
    for e in an4:
        x, rate = read(e["audio_filepath"])
        start, end = speech_span(x, rate)
        y = np.concatenate([noise(PADDING, rate, -80, rng), x, noise(PADDING, rate, -80, rng)])
        target = os.path.join(out, "padded", os.path.basename(e["audio_filepath"]))
        write(target, y, rate)
        rows.append({"audio_filepath": target, "text": e["text"], "clip_start": PADDING,
                     "speech_start": round(PADDING + start, 3), "speech_end": round(PADDING + end, 3)})
    dump(os.path.join(out, "padded.jsonl"), rows)

    rows = []
    groups = [an4[i:i + args.per_file] for i in range(0, len(an4), args.per_file)]
    if len(groups) > 1 and len(groups[-1]) < args.per_file // 2:
        groups[-2] += groups.pop()
    for k, group in enumerate(groups):
        rate = read(group[0]["audio_filepath"])[1]
        parts, segments, t = [], [], 0.5
        parts.append(np.zeros(int(0.5 * rate)))
        for i, e in enumerate(group):
            x, r = read(e["audio_filepath"])
            assert r == rate
            start, end = speech_span(x, rate)
            segments.append({"start": round(t + start, 3), "end": round(t + end, 3), "text": e["text"]})
            parts.append(x)
            t += len(x) / rate
            pause = 0.5 if i == len(group) - 1 else rng.uniform(0.5, 1.5)
            parts.append(np.zeros(int(round(pause * rate))))
            t += int(round(pause * rate)) / rate
        y = np.concatenate(parts)
        y = y + noise(len(y) / rate, rate, -70, rng)[: len(y)]
        target = os.path.join(out, "long", f"session{k + 1}.wav")
        write(target, y, rate)
        rows.append({"audio_filepath": target, "text": " ".join(e["text"] for e in group), "segments": segments})
    dump(os.path.join(out, "long.jsonl"), rows)

    rows = []
    for e in fsdd:
        x, rate = read(e["audio_filepath"])
        y = np.concatenate([noise(0.5, rate, -80, rng), x, noise(0.5, rate, -80, rng)])
        target = os.path.join(out, "fsdd-padded", os.path.basename(e["audio_filepath"]))
        write(target, y, rate)
        rows.append({"audio_filepath": target, "text": e["text"], "speech_start": 0.5,
                     "speech_end": round(0.5 + len(x) / rate, 4)})
    dump(os.path.join(out, "fsdd-padded.jsonl"), rows)

    rows = []
    order = rng.permutation(len(fsdd))
    for k in range(len(order) // 5):
        picked = [fsdd[i] for i in order[5 * k:5 * k + 5]]
        rate = read(picked[0]["audio_filepath"])[1]
        parts, words, t = [], [], 0.0
        for e in picked:
            pause = int(round(rng.uniform(0.3, 0.8) * rate))
            parts.append(noise(pause / rate, rate, -80, rng))
            t += pause / rate
            x, r = read(e["audio_filepath"])
            assert r == rate
            words.append({"word": e["text"], "start": round(t, 4), "end": round(t + len(x) / rate, 4)})
            parts.append(x)
            t += len(x) / rate
        parts.append(noise(rng.uniform(0.3, 0.8), rate, -80, rng))
        target = os.path.join(out, "fsdd-strings", f"string{k + 1:03d}.wav")
        write(target, np.concatenate(parts), rate)
        rows.append({"audio_filepath": target, "text": " ".join(w["word"] for w in words), "words": words})
    dump(os.path.join(out, "fsdd-strings.jsonl"), rows)
    print(f"{out}: padded {len(an4)}, long {len(groups)} files, fsdd-padded {len(fsdd)}, fsdd-strings {len(order) // 5}")


if __name__ == "__main__":
    main()
