#!/usr/bin/env python3
"""Hark's CTC loss + gradient side by side with torch.nn.functional.ctc_loss.

Same shapes (T = 400, B = 16, K = 29, L = 60 by default), same machine, one run;
PyTorch with 2 threads, forward + backward on log-probabilities (reduction
'mean'); Hark the same (and its fused path from activations). Prints medians
and the ratio PyTorch time / Hark time.

    swift build -c release --product hark-bench
    python Benchmarks/compare_ctc.py --runs 5
"""
import argparse
import json
import statistics
import subprocess
import time

import torch
import torch.nn.functional as F


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--frames", type=int, default=400)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--classes", type=int, default=29)
    ap.add_argument("--labels", type=int, default=60)
    ap.add_argument("--hark-bench", default=".build/release/hark-bench")
    a = ap.parse_args()
    torch.set_num_threads(2)
    T, B, K, L = a.frames, a.batch, a.classes, a.labels
    lp = torch.randn(T, B, K).log_softmax(-1).detach().requires_grad_(True)
    targets = torch.randint(1, K, (B, L))
    il = torch.full((B,), T)
    tl = torch.full((B,), L)

    def step():
        lp.grad = None
        F.ctc_loss(lp, targets, il, tl, reduction="mean").backward()

    step()
    ts = []
    for _ in range(a.runs):
        t = time.perf_counter()
        step()
        ts.append(time.perf_counter() - t)
    torch_t = statistics.median(ts)
    h = json.loads(subprocess.run([a.hark_bench, "ctc", "--frames", str(T), "--batch", str(B), "--classes", str(K),
                                   "--labels", str(L), "--runs", str(a.runs)],
                                  check=True, capture_output=True, text=True).stdout)
    print(f"CTC loss+gradient T={T} B={B} K={K} L={L}, median of {a.runs} runs; torch {torch.__version__} 2 threads")
    print(f"  PyTorch F.ctc_loss fwd+bwd   {torch_t * 1e3:8.2f} ms")
    print(f"  Hark (log-probs)             {h['median'] * 1e3:8.2f} ms   {torch_t / h['median']:.2f}x")
    print(f"  Hark (fused from activations){h['fused_median'] * 1e3:8.2f} ms   {torch_t / h['fused_median']:.2f}x")


if __name__ == "__main__":
    main()
