#!/usr/bin/env python3
"""Makes the listening conditions the default model is reported on, from a manifest.

For every utterance of MANIFEST (JSONL with "audio_filepath" and "text", 16-bit
WAV), writes into OUT_DIR/<condition>/ a copy heard under that condition, and a
manifest OUT_DIR/<condition>.jsonl with the same transcripts:

  8k      the recording band-limited and resampled to 8 kHz (telephone rate;
          Hark upsamples it again when transcribing): the spectrum above 4 kHz
          is zeroed by FFT and every other sample kept (16 kHz inputs)
  snr20   white Gaussian noise added at 20 dB SNR (SNR over the whole file,
          mean squares of signal and noise)
  snr10   the same at 10 dB

Noise is seeded (--seed), so the conditions are the same on every run.

    python3 scripts/make_test_conditions.py build/an4/valid.jsonl build/conditions

Needs numpy only.
"""
import argparse
import json
import os
import wave

import numpy as np


def read(path):
    with wave.open(path, "rb") as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1, f"{path}: 16-bit mono WAV expected"
        rate = w.getframerate()
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64)
    return x, rate


def write(path, x, rate):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    y = np.clip(np.round(x), -32768, 32767).astype("<i2")
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(y.tobytes())


def to_8k(x, rate):
    assert rate == 16000, "the 8 kHz condition is made from 16 kHz audio"
    spectrum = np.fft.rfft(x)
    freqs = np.fft.rfftfreq(len(x), 1 / rate)
    spectrum[freqs >= 4000] = 0
    return np.fft.irfft(spectrum, len(x))[::2], 8000


def with_noise(x, snr_db, rng):
    noise = rng.standard_normal(len(x))
    gain = np.sqrt(np.mean(x ** 2) / (np.mean(noise ** 2) * 10 ** (snr_db / 10)))
    return x + gain * noise


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("manifest")
    ap.add_argument("out_dir")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    base = os.path.dirname(os.path.abspath(args.manifest))
    entries = [json.loads(line) for line in open(args.manifest) if line.strip()]
    conditions = {"8k": lambda x, r: to_8k(x, r), "snr20": lambda x, r: (with_noise(x, 20, rng), r),
                  "snr10": lambda x, r: (with_noise(x, 10, rng), r)}
    for name, make in conditions.items():
        lines = []
        for e in entries:
            source = e["audio_filepath"]
            if not os.path.isabs(source):
                source = os.path.join(base, source)
            x, rate = read(source)
            y, new_rate = make(x, rate)
            target = os.path.join(os.path.abspath(args.out_dir), name, os.path.basename(source))
            write(target, y, new_rate)
            lines.append(json.dumps({"audio_filepath": target, "text": e["text"]}))
        with open(os.path.join(args.out_dir, name + ".jsonl"), "w") as f:
            f.write("\n".join(lines) + "\n")
        print(f"{args.out_dir}/{name}.jsonl: {len(lines)} utterances")


if __name__ == "__main__":
    main()
