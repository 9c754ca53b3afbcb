#!/usr/bin/env python3
"""Hark's CTC beam search with a word LM side by side with pyctcdecode + KenLM.

Same log-probabilities (Hark's network, run once and saved as .npy), same ARPA
file, same alpha, beta, beam width and per-frame pruning; both decoders on 2
cores (Hark: two threads; pyctcdecode: a pool of two processes, its LM loaded
in each beforehand). Each decodes the set --runs times; prints each decoder's
WER and median decoding time (the network excluded) and the speed ratio.

    swift build -c release --product hark-bench
    pip install pyctcdecode kenlm numpy
    hark lm --order 3 --model models/an4-blstm -o an4.arpa build/an4/train.jsonl
    python Benchmarks/compare_decoders.py --model models/an4-blstm --lm an4.arpa build/an4/valid.jsonl
"""
import argparse
import json
import multiprocessing
import statistics
import subprocess
import tempfile
import time

import numpy as np
import pyctcdecode
import kenlm  # noqa: F401  (pyctcdecode loads the ARPA file through it)
from pyctcdecode import build_ctcdecoder

_decoder = None


def _init(labels, lm, alpha, beta, unk):
    global _decoder
    _decoder = build_ctcdecoder(labels, kenlm_model_path=lm, alpha=alpha, beta=beta, unk_score_offset=unk)


def _decode(args):
    path, beam, token_min_logp, prune = args
    return _decoder.decode(np.load(path), beam_width=beam, token_min_logp=token_min_logp, beam_prune_logp=prune)


def edit_distance(a, b):
    d = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, d[0] = d[0], i
        for j, y in enumerate(b, 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (x != y))
    return d[len(b)]


def wer(refs, hyps):
    errors = sum(edit_distance(r.split(), h.split()) for r, h in zip(refs, hyps))
    return errors / max(1, sum(len(r.split()) for r in refs))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("manifest")
    ap.add_argument("--model", default="models/an4-blstm")
    ap.add_argument("--lm", required=True)
    ap.add_argument("--alpha", type=float, default=0.5)
    ap.add_argument("--beta", type=float, default=1.0)
    ap.add_argument("--beam", type=int, default=32)
    ap.add_argument("--token-min-logprob", type=float, default=-8.0)
    ap.add_argument("--beam-prune-logprob", type=float, default=-10.0)
    ap.add_argument("--unknown-penalty", type=float, default=-10.0)
    ap.add_argument("--runs", type=int, default=5, help="decoding runs per decoder; medians are compared")
    ap.add_argument("--hark-bench", default=".build/release/hark-bench")
    a = ap.parse_args()
    out = tempfile.mkdtemp(prefix="hark-decode-")
    hark = json.loads(subprocess.run(
        [a.hark_bench, "decode", "--model", a.model, "--lm", a.lm, "--out", out, "--alpha", str(a.alpha),
         "--beta", str(a.beta), "--beam", str(a.beam), "--token-min-logprob", str(a.token_min_logprob),
         "--beam-prune-logprob", str(a.beam_prune_logprob), "--runs", str(a.runs), a.manifest],
        check=True, capture_output=True, text=True).stdout)
    entries = [json.loads(line) for line in open(a.manifest) if line.strip()]
    refs = [" ".join(e["text"].upper().split()) for e in entries]
    labels = ["" if t == "<blank>" else t for t in hark["tokens"]]
    paths = [f"{out}/{i:04d}.npy" for i in range(len(entries))]
    with multiprocessing.Pool(2, _init, (labels, a.lm, a.alpha, a.beta, a.unknown_penalty)) as pool:
        pool.map(_decode, [(paths[0], a.beam, a.token_min_logprob, a.beam_prune_logprob)] * 2)   # warm-up: the LM loads in each worker
        times = []
        for _ in range(a.runs):
            start = time.perf_counter()
            hyps = pool.map(_decode, [(p, a.beam, a.token_min_logprob, a.beam_prune_logprob) for p in paths])
            times.append(time.perf_counter() - start)
        seconds = statistics.median(times)
    hyps = [" ".join(h.split()) for h in hyps]
    agree = sum(h == k for h, k in zip(hyps, hark["hypotheses"]))
    print(json.dumps({
        "utterances": len(entries), "audio_seconds": round(hark["audio_seconds"], 1),
        "alpha": a.alpha, "beta": a.beta, "beam": a.beam, "token_min_logprob": a.token_min_logprob, "beam_prune_logprob": a.beam_prune_logprob,
        "hark": {"wer": round(100 * hark["wer"], 2), "decode_seconds": round(hark["decode_seconds"], 3),
                 "times_real_time": round(hark["decode_times_real_time"]),
                 "network_seconds": round(hark["network_seconds"], 3)},
        "pyctcdecode": {"version": pyctcdecode.__version__ if hasattr(pyctcdecode, "__version__") else "?",
                        "wer": round(100 * wer(refs, hyps), 2), "decode_seconds": round(seconds, 3),
                        "times_real_time": round(hark["audio_seconds"] / seconds)},
        "same_text": f"{agree}/{len(entries)}",
        "speed_ratio_pyctcdecode_over_hark": round(seconds / hark["decode_seconds"], 1),
    }, indent=1))


if __name__ == "__main__":
    main()
