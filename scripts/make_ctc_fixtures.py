#!/usr/bin/env python3
"""Writes the PyTorch reference values for Hark's CTC tests.

Each case: activations x [T, B, K] (float32 values; the reference computed in
float64), log_probs = log_softmax(x), padded targets,
input and target lengths, and from torch.nn.functional.ctc_loss (blank 0 unless
stated): the per-utterance losses, the reduced losses for 'sum' and 'mean', and
the gradients with respect to log_probs (PyTorch's convention) and to x
(through log_softmax), for zero_infinity False and True.

Run from the repository root with PyTorch and safetensors installed:
    python scripts/make_ctc_fixtures.py
Writes Tests/HarkCTCTests/Fixtures/{ctc.safetensors, ctc.json}.
"""
import json
import platform
from pathlib import Path

import safetensors
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

OUT = Path("Tests/HarkCTCTests/Fixtures")


def case(name, T, K, input_lengths, targets, blank=0, scale=1.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    B = len(input_lengths)
    # The inputs are float32 values; the reference is computed from them in
    # float64, so that it is exact to far better than the tolerance (PyTorch's
    # own float32 result differs from it by up to ~1e-4 on peaked inputs).
    x = (torch.randn(T, B, K, generator=g) * scale).double()
    L = max([len(t) for t in targets] + [1])
    padded = torch.zeros(B, L, dtype=torch.int64)
    for b, t in enumerate(targets):
        padded[b, :len(t)] = torch.tensor(t, dtype=torch.int64)
    il = torch.tensor(input_lengths)
    tl = torch.tensor([len(t) for t in targets])
    out = {"x": x.float(), "targets": padded}
    meta = {"name": name, "T": T, "B": B, "K": K, "blank": blank, "input_lengths": input_lengths,
            "targets": targets}
    for zi in (False, True):
        z = "zi" if zi else "nozi"
        for reduction in ("none", "sum", "mean"):
            xg = x.clone().requires_grad_(True)
            lp = xg.log_softmax(-1)
            lp.retain_grad()
            loss = F.ctc_loss(lp, padded, il, tl, blank=blank, reduction=reduction, zero_infinity=zi)
            (loss.sum() if reduction == "none" else loss).backward()
            out[f"{z}.{reduction}.loss"] = loss.detach().reshape(-1).float().clone()
            if reduction != "none":   # 'none' is backpropagated as its sum: the 'sum' gradients
                out[f"{z}.{reduction}.grad_logprobs"] = lp.grad.float().clone()
                out[f"{z}.{reduction}.grad_x"] = xg.grad.float().clone()
    return meta, out


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    specs = []
    g = torch.Generator().manual_seed(1234)

    def rand_targets(B, K, lengths, blank=0):
        res = []
        for L in lengths:
            t = torch.randint(1, K, (L,), generator=g).tolist()
            res.append([v if v < blank or blank == 0 else v for v in t])
        return res

    # Random cases over T, B, K, L with mixed lengths.
    specs.append(("random_small", dict(T=10, K=5, input_lengths=[10, 7, 9], targets=rand_targets(3, 5, [3, 2, 4]), seed=1)))
    specs.append(("random_medium", dict(T=50, K=20, input_lengths=[50, 41, 33, 50],
                                        targets=rand_targets(4, 20, [12, 20, 5, 1]), seed=2)))
    specs.append(("random_large", dict(T=120, K=29, input_lengths=[120, 97, 64],
                                       targets=rand_targets(3, 29, [40, 30, 25]), seed=3)))
    # Repeated labels: need a blank between them.
    specs.append(("repeats", dict(T=12, K=4, input_lengths=[12, 6, 5], targets=[[1, 1, 2, 2, 3], [1, 1, 1], [2, 2, 2]], seed=4)))
    # Empty targets, T = 1, targets too long for the frames, zero-length input.
    specs.append(("empty_targets", dict(T=6, K=4, input_lengths=[6, 3], targets=[[], []], seed=5)))
    specs.append(("t_equals_1", dict(T=1, K=4, input_lengths=[1, 1, 1], targets=[[], [2], [3]], seed=6)))
    specs.append(("too_long", dict(T=4, K=5, input_lengths=[4, 4, 3, 4], targets=[[1, 2, 3, 4, 1], [1, 1, 1], [1, 2], [2, 3]], seed=7)))
    specs.append(("zero_input", dict(T=3, K=3, input_lengths=[0, 3], targets=[[], [1]], seed=8)))
    # Very peaked and very flat inputs (underflow).
    specs.append(("peaked", dict(T=30, K=6, input_lengths=[30, 25], targets=[[1, 2, 3], [4, 4, 5, 1]], scale=40.0, seed=9)))
    specs.append(("flat", dict(T=200, K=30, input_lengths=[200, 150], targets=[[3] * 20, list(range(1, 30))], scale=1e-3, seed=10)))
    # Another blank index.
    specs.append(("blank_last", dict(T=15, K=6, input_lengths=[15, 11], targets=[[0, 1, 2, 0], [3, 4, 4]], blank=5, seed=11)))

    tensors, index = {}, []
    for name, kw in specs:
        meta, out = case(name, **kw)
        index.append(meta)
        for k, v in out.items():
            tensors[f"{name}/{k}"] = v.contiguous()
    save_file(tensors, OUT / "ctc.safetensors")
    meta = {"generator": "scripts/make_ctc_fixtures.py", "command": "python scripts/make_ctc_fixtures.py",
            "versions": {"python": platform.python_version(), "torch": torch.__version__,
                         "safetensors": safetensors.__version__},
            "cases": index}
    (OUT / "ctc.json").write_text(json.dumps(meta, indent=1) + "\n")


if __name__ == "__main__":
    main()
