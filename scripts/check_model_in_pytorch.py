#!/usr/bin/env python3
"""Checks a Hark model directory against PyTorch: it loads into HarkCTC
(python/hark_ctc.py) with load_state_dict(strict=True), and for the same
features PyTorch's log-probabilities equal Hark's.

    swift build -c release --product hark
    python scripts/check_model_in_pytorch.py models/an4-blstm audio/an52-mmaf-b.wav

The features are Hark's own (`hark features` with the model's options,
stacked here), so the comparison is of the networks alone; Hark's
log-probabilities come from `hark transcribe --emit-logprobs`.
"""
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, "python")
from hark_ctc import load, stack  # noqa: E402

HARK = ".build/release/hark"


def feature_flags(f):
    flags = []
    for key, value in f.items():
        if key == "dither_seed":
            continue
        flag = "--" + key.replace("_", "-")
        if isinstance(value, bool):
            flags.append(f"{flag}={'true' if value else 'false'}")
        else:
            flags += [flag, str(value)]
    return flags


def main():
    model_dir, audio = sys.argv[1], sys.argv[2]
    model, config = load(model_dir)   # raises unless the state_dict matches exactly
    name = Path(audio).stem
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([HARK, "features", *feature_flags(config["features"]), "--output-dir", d, audio],
                       check=True, capture_output=True)
        subprocess.run([HARK, "transcribe", "--model", model_dir, "--emit-logprobs", d + "/lp", audio],
                       check=True, capture_output=True)
        x = stack(torch.from_numpy(np.load(f"{d}/{name}.npy")), config["stack_frames"])
        hark = np.load(f"{d}/lp/{name}.npy")
    with torch.no_grad():
        lp = model(x.unsqueeze(0))[0].numpy()
    err = np.abs(lp - hark).max()
    print(f"torch {torch.__version__}: strict load of {model_dir} OK; log-probs {lp.shape}, "
          f"max |PyTorch - Hark| = {err:.3g}")
    sys.exit(0 if err <= 1e-4 else 1)


if __name__ == "__main__":
    main()
