#!/usr/bin/env python3
"""Hark's MFCC speed side by side with librosa, torchaudio and kaldi-native-fbank.

Builds a 10-minute 16 kHz recording by concatenating AN4 utterances, then times
the extraction of 13-dim MFCCs (25 ms / 10 ms frames, 23 mel bins, 512-point
FFT) from the in-memory waveform, `--runs` times each, in one run on the same
machine, and prints medians and Hark's speed ratio against each.

    swift build -c release --product hark-bench
    python Benchmarks/compare_features.py --an4 ../shared/data/an4 --runs 5

Needs numpy, soundfile, torch, torchaudio, librosa, kaldi-native-fbank (a venv
outside the repository). PyTorch runs with 2 threads (the machine's cores);
librosa and kaldi-native-fbank use one core, as they do by default.
"""
import argparse
import glob
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import numpy as np
import soundfile


def build_recording(an4, seconds, path):
    files = sorted(glob.glob(os.path.join(an4, "wav", "**", "*.wav"), recursive=True))
    parts, total = [], 0
    for f in files:
        x, sr = soundfile.read(f, dtype="int16")
        assert sr == 16000, f
        parts.append(x)
        total += len(x)
        if total >= seconds * 16000:
            break
    audio = np.concatenate(parts)[: seconds * 16000]
    soundfile.write(path, audio, 16000, subtype="PCM_16")
    return path


def timed(fn, runs):
    fn()  # warm-up
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), times


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--an4", default="../shared/data/an4")
    ap.add_argument("--seconds", type=int, default=600)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--wav", default="/tmp/hark-bench-10min.wav")
    ap.add_argument("--hark-bench", default=".build/release/hark-bench")
    args = ap.parse_args()

    wav = build_recording(args.an4, args.seconds, args.wav)
    samples, sr = soundfile.read(wav, dtype="float32")
    duration = len(samples) / sr

    results = {}
    out = subprocess.run([args.hark_bench, "mfcc", wav, "--runs", str(args.runs)],
                         check=True, capture_output=True, text=True).stdout
    hark = json.loads(out)
    results["hark (2 threads)"] = (hark["median_seconds"], hark["runs"])
    out = subprocess.run([args.hark_bench, "mfcc", wav, "--runs", str(args.runs), "--threads", "1"],
                         check=True, capture_output=True, text=True).stdout
    hark1 = json.loads(out)
    results["hark (1 thread)"] = (hark1["median_seconds"], hark1["runs"])

    import torch
    import torchaudio
    import torchaudio.compliance.kaldi as kaldi
    torch.set_num_threads(2)
    wave = torch.from_numpy(samples * 32768.0).unsqueeze(0)
    results["torchaudio compliance.kaldi.mfcc"] = timed(
        lambda: kaldi.mfcc(wave, sample_frequency=16000, dither=0.0, use_energy=True), args.runs)
    transform = torchaudio.transforms.MFCC(sample_rate=16000, n_mfcc=13, melkwargs=dict(
        n_fft=512, win_length=400, hop_length=160, n_mels=23, f_min=20.0))
    wave1 = torch.from_numpy(samples)
    with torch.inference_mode():
        results["torchaudio transforms.MFCC"] = timed(lambda: transform(wave1), args.runs)

    import librosa
    results["librosa feature.mfcc"] = timed(lambda: librosa.feature.mfcc(
        y=samples, sr=16000, n_mfcc=13, n_fft=512, win_length=400, hop_length=160, n_mels=23, fmin=20.0), args.runs)

    import kaldi_native_fbank as knf

    def knf_mfcc():
        opts = knf.MfccOptions()
        opts.frame_opts.dither = 0
        opts.frame_opts.samp_freq = 16000
        m = knf.OnlineMfcc(opts)
        m.accept_waveform(16000, samples * 32768.0)
        m.input_finished()
        return np.stack([m.get_frame(i) for i in range(m.num_frames_ready)])
    results["kaldi-native-fbank OnlineMfcc"] = timed(knf_mfcc, args.runs)

    print(f"13-dim MFCC of {duration:.0f} s of 16 kHz speech; median of {args.runs} runs "
          f"(python {platform.python_version()}, torch {torch.__version__}, torchaudio {torchaudio.__version__}, "
          f"librosa {librosa.__version__}, kaldi-native-fbank {getattr(knf, '__version__', '?')}, {os.cpu_count()} cores)")
    print(f"{'':36s} {'median s':>9s} {'x real time':>12s} {'2-thread Hark faster by':>24s}")
    hark_t = results["hark (2 threads)"][0]
    for name, (t, runs) in results.items():
        print(f"{name:36s} {t:9.4f} {duration / t:12.0f} {t / hark_t:23.1f}x")
    others = {k: v for k, v in results.items() if not k.startswith("hark")}
    fastest = min(others, key=lambda k: others[k][0])
    print(f"fastest other: {fastest}; Hark is {others[fastest][0] / hark_t:.1f}x faster", file=sys.stderr)


if __name__ == "__main__":
    main()
