"""End-to-end training speed, Hark against PyTorch, run by hand.

    python Benchmarks/compare_training.py HARK MANIFEST [--utterances 400] [--epochs 2]
        [--layers 3] [--hidden 128 256] [--threads 1 2] [--runs 3]

The same job on both sides, from audio files to trained weights: the first
--utterances of MANIFEST (JSONL, "audio_filepath" and "text"), 40 Kaldi fbank
bins (torchaudio.compliance.kaldi on the PyTorch side), per-utterance
mean-and-variance CMVN, 3 frames stacked, a bidirectional LSTM of --layers ×
--hidden with dropout 0.2 and a linear layer to the 28 characters, CTC loss
('mean'), Adam at 1e-3, gradients clipped at 5, batches of 16 utterances of
similar length in a shuffled order, --epochs epochs, no augmentation and no
validation. PyTorch runs nn.LSTM on packed sequences (pack_padded_sequence)
with torch.set_num_threads(N); Hark runs `hark train --threads N`. Times are
wall clock: Hark's whole process; PyTorch's from after its imports. Prints
each side's median of --runs runs, per network size and thread count, and the
ratio. The machine should be idle.

Needs torch, torchaudio, soundfile.
"""
import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import soundfile
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchaudio
import torchaudio.compliance.kaldi as kaldi

TOKENS = ["<blank>", " ", "'"] + [chr(c) for c in range(ord("A"), ord("Z") + 1)]


def entries(manifest, n):
    base = os.path.dirname(os.path.abspath(manifest))
    out = []
    for line in open(manifest):
        if line.strip():
            e = json.loads(line)
            path = e["audio_filepath"] if os.path.isabs(e["audio_filepath"]) else os.path.join(base, e["audio_filepath"])
            out.append((path, e["text"].upper()))
        if len(out) == n:
            break
    return out


def torch_train(data, layers, hidden, epochs, threads, seed=1):
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    start = time.perf_counter()
    feats, labels = [], []
    for path, text in data:
        x, rate = soundfile.read(path, dtype="float32")
        w = torch.from_numpy(x).unsqueeze(0) * 32768.0
        f = kaldi.fbank(w, num_mel_bins=40, sample_frequency=rate, dither=0.0).double()
        f = ((f - f.mean(0)) / f.var(0, unbiased=False).clamp_min(1e-20).sqrt()).float()
        t = f.shape[0] // 3
        feats.append(f[: 3 * t].reshape(t, 120))
        labels.append(torch.tensor([TOKENS.index(c) for c in text if c in TOKENS]))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = nn.LSTM(120, hidden, layers, batch_first=True, bidirectional=True, dropout=0.2)
            self.output = nn.Linear(2 * hidden, len(TOKENS))

        def forward(self, x, lengths):
            packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
            y, _ = self.rnn(packed)
            y, _ = nn.utils.rnn.pad_packed_sequence(y, batch_first=True)
            return self.output(y).log_softmax(-1)

    model = Net()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    order = sorted(range(len(feats)), key=lambda i: feats[i].shape[0])
    batches = [order[i:i + 16] for i in range(0, len(order), 16)]
    g = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for b in torch.randperm(len(batches), generator=g).tolist():
            idx = batches[b]
            xs = [feats[i] for i in idx]
            lengths = torch.tensor([x.shape[0] for x in xs])
            x = nn.utils.rnn.pad_sequence(xs, batch_first=True)
            targets = torch.cat([labels[i] for i in idx])
            target_lengths = torch.tensor([len(labels[i]) for i in idx])
            lp = model(x, lengths).transpose(0, 1)
            loss = F.ctc_loss(lp, targets, lengths, target_lengths, reduction="mean", zero_infinity=True)
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()
    return time.perf_counter() - start


def hark_train(hark, manifest, layers, hidden, epochs, threads):
    out = tempfile.mkdtemp(prefix="hark-train-")
    try:
        start = time.perf_counter()
        subprocess.run([hark, "train", "--train", manifest, "--out", out, "--epochs", str(epochs), "--batch-size", "16",
                        "--hidden-size", str(hidden), "--num-layers", str(layers), "--bidirectional", "true",
                        "--dropout", "0.2", "--stack-frames", "3", "--spec-augment", "off", "--clip", "5",
                        "--optimizer", "adam", "--lr", "1e-3", "--warmup-steps", "0", "--final-lr-fraction", "1",
                        "--type", "fbank", "--num-mel-bins", "40", "--cmvn", "meanvar", "--patience", "1000",
                        "--checkpoint-every", "1000000", "--threads", str(threads)],
                       check=True, capture_output=True)
        return time.perf_counter() - start
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("hark")
    ap.add_argument("manifest")
    ap.add_argument("--utterances", type=int, default=400)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--layers", type=int, default=3)
    ap.add_argument("--hidden", type=int, nargs="+", default=[128, 256])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    data = entries(args.manifest, args.utterances)
    subset = tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False)
    for path, text in data:
        subset.write(json.dumps({"audio_filepath": path, "text": text}) + "\n")
    subset.close()
    print(f"torch {torch.__version__}, torchaudio {torchaudio.__version__}, python {platform.python_version()}; "
          f"{len(data)} utterances, {args.epochs} epochs, {args.runs} runs each (median)")
    for hidden in args.hidden:
        for threads in args.threads:
            h = [hark_train(args.hark, subset.name, args.layers, hidden, args.epochs, threads) for _ in range(args.runs)]
            p = [torch_train(data, args.layers, hidden, args.epochs, threads) for _ in range(args.runs)]
            hm, pm = statistics.median(h), statistics.median(p)
            print(f"{args.layers}x{hidden} bi-LSTM, {threads} thread(s): Hark {hm:.2f} s {sorted(round(x, 2) for x in h)}, "
                  f"PyTorch {pm:.2f} s {sorted(round(x, 2) for x in p)}: {pm / hm:.2f}x", flush=True)
    os.unlink(subset.name)


if __name__ == "__main__":
    main()
