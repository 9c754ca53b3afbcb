#!/usr/bin/env python3
"""Hark's recurrent layers side by side with PyTorch's, same shapes, same machine, one run.

For each shape: forward, and forward + backward (loss = sum(out * R)), of a
bidirectional stack on random data, `--runs` times; prints medians and the
ratio PyTorch time / Hark time (above 1: Hark is faster). PyTorch uses 2
threads (the machine's cores), Hark both cores.

    swift build -c release --product hark-bench
    python Benchmarks/compare_recurrent.py --runs 5
"""
import argparse
import json
import platform
import statistics
import subprocess
import time

import torch

SHAPES = [  # (cell, layers, hidden, input, batch, frames)
    ("lstm", 3, 256, 39, 16, 400),
    ("lstm", 2, 512, 39, 16, 400),
    ("lstm", 2, 128, 39, 8, 200),
]


def sgemm_peak(runs, n=2048):
    """GFLOP/s of a large square single-precision product (torch.mm), the machine's reference peak."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        torch.mm(a, b)
        ts.append(time.perf_counter() - t)
    return 2 * n ** 3 / statistics.median(ts) / 1e9


def torch_times(cell, layers, hidden, inp, batch, frames, runs):
    cls = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn_tanh": torch.nn.RNN}[cell]
    m = cls(inp, hidden, layers, bidirectional=True)
    x = torch.randn(frames, batch, inp)
    r = torch.randn(frames, batch, 2 * hidden)

    def fwd():
        with torch.no_grad():
            m(x)

    def train():
        m.zero_grad()
        out, _ = m(x)
        (out * r).sum().backward()

    result = []
    for fn in (fwd, train):
        fn()
        ts = []
        for _ in range(runs):
            t = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t)
        result.append(statistics.median(ts))
    return result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--hark-bench", default=".build/release/hark-bench")
    args = ap.parse_args()
    torch.set_num_threads(2)
    print(f"torch {torch.__version__} ({torch.get_num_threads()} threads), python {platform.python_version()}; "
          f"median of {args.runs} runs")
    peak = sgemm_peak(args.runs)
    print(f"sgemm peak (torch.mm 2048x2048, 2 threads): {peak:.1f} GFLOP/s")
    print(f"{'shape':42s} {'pass':14s} {'hark s':>8s} {'torch s':>8s} {'ratio':>6s} {'hark GFLOP/s':>12s}")
    for cell, layers, hidden, inp, batch, frames in SHAPES:
        out = subprocess.run([args.hark_bench, "rnn", "--cell", cell, "--layers", str(layers), "--hidden", str(hidden),
                              "--input", str(inp), "--batch", str(batch), "--frames", str(frames),
                              "--runs", str(args.runs)], check=True, capture_output=True, text=True).stdout
        h = json.loads(out)
        tf, tt = torch_times(cell, layers, hidden, inp, batch, frames, args.runs)
        name = f"bi-{cell} {layers}x{hidden} in {inp} B={batch} T={frames}"
        print(f"{name:42s} {'forward':14s} {h['forward_median']:8.3f} {tf:8.3f} {tf / h['forward_median']:6.2f} "
              f"{h['forward_gflops']:12.1f}")
        print(f"{name:42s} {'fwd+backward':14s} {h['train_median']:8.3f} {tt:8.3f} {tt / h['train_median']:6.2f} "
              f"{h['train_gflops']:12.1f} ({100 * h['train_gflops'] / peak:.0f}% of peak)")


if __name__ == "__main__":
    main()
