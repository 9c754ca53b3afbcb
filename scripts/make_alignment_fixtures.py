#!/usr/bin/env python3
"""Writes torchaudio's forced alignments for Hark's alignment tests.

Each case: float32 log-probabilities [T, K] (log_softmax of seeded random
activations, some scaled up to be as peaked as a trained CTC network's, or
the bundled model's own on a bundled recording), a label sequence without
blanks, and torchaudio.functional.forced_align's two outputs: the class of
every frame and its log-probability. Cases cover repeats (a blank required
between them), the tightest T (= L + repeats), a single label, a blank other
than 0, and long sequences.

The model case reads Tests/HarkCTCTests/Fixtures/an52-logprobs.npy, written by

    .build/release/hark transcribe --model models/an4-blstm --no-segment \\
        --emit-logprobs /tmp/lp audio/an52-mmaf-b.wav
    cp /tmp/lp/an52-mmaf-b.npy Tests/HarkCTCTests/Fixtures/an52-logprobs.npy

Run from the repository root with torch, torchaudio, numpy and safetensors:
    python scripts/make_alignment_fixtures.py
Writes Tests/HarkCTCTests/Fixtures/{alignment.safetensors, alignment.json}.
"""
import json
import platform
import sys
from pathlib import Path

import numpy as np
import torch
import torchaudio
import torchaudio.functional as F
from safetensors.torch import save_file

OUT = Path("Tests/HarkCTCTests/Fixtures")


def case(name, lp, labels, blank=0):
    lp = lp.float().contiguous()
    targets = torch.tensor([labels], dtype=torch.int32)
    path, scores = F.forced_align(lp.unsqueeze(0), targets, blank=blank)
    meta = {"name": name, "T": lp.shape[0], "K": lp.shape[1], "blank": blank, "labels": labels}
    return meta, {f"{name}/logprobs": lp, f"{name}/path": path[0].to(torch.int32), f"{name}/scores": scores[0].float()}


def random_case(name, T, K, labels, blank=0, scale=1.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(T, K, generator=g) * scale
    return case(name, x.log_softmax(-1), labels, blank)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    g = np.random.default_rng(5)
    specs = [
        ("flat_short", 12, 5, [1, 2, 3], 0, 1.0),
        ("repeats", 20, 6, [2, 2, 3, 3, 3, 1], 0, 1.0),
        ("tightest", 9, 5, [1, 1, 2, 2, 3, 4, 4], 0, 1.0),         # T = L + repeats = 7 + 3 - 1? (checked below)
        ("single_label", 15, 4, [3], 0, 2.0),
        ("blank_last", 30, 7, [0, 1, 2, 5, 5, 3], 6, 3.0),
        ("peaked", 80, 28, [int(v) for v in g.integers(1, 28, 20)], 0, 8.0),
        ("long", 400, 28, [int(v) for v in g.integers(1, 28, 120)], 0, 5.0),
        ("one_frame", 1, 4, [2], 0, 1.0),
    ]
    cases, tensors = [], {}
    for k, (name, T, K, labels, blank, scale) in enumerate(specs):
        repeats = sum(1 for a, b in zip(labels, labels[1:]) if a == b)
        if name == "tightest":
            T = len(labels) + repeats
        meta, out = random_case(name, T, K, labels, blank, scale, seed=k + 1)
        cases.append(meta)
        tensors.update(out)
    model = OUT / "an52-logprobs.npy"
    lp = torch.from_numpy(np.load(model))
    # "ENTER SEVEN" in the model's tokens: blank, space, A-Z.
    tokens = ["<blank>", " "] + [chr(c) for c in range(ord("A"), ord("Z") + 1)]
    meta, out = case("an4_model_enter_seven", lp, [tokens.index(c) for c in "ENTER SEVEN"])
    cases.append(meta)
    tensors.update(out)
    save_file(tensors, str(OUT / "alignment.safetensors"))
    info = {
        "generator": "scripts/make_alignment_fixtures.py",
        "command": "python " + " ".join(sys.argv),
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "torchaudio": torchaudio.__version__, "numpy": np.__version__},
        "cases": cases,
    }
    (OUT / "alignment.json").write_text(json.dumps(info, indent=1) + "\n")
    print(f"wrote {len(cases)} cases")


if __name__ == "__main__":
    main()
