#!/usr/bin/env python3
"""Checks that a model written by Hark loads into PyTorch with
load_state_dict(strict=True) and gives Hark's outputs.

    swift build -c release --product hark-bench
    python scripts/check_pytorch_roundtrip.py

(The other direction, PyTorch's safetensors files loading into Hark with
identical outputs, is what the fixture tests do on every run.)
"""
import subprocess
import sys
import tempfile

import torch
import torch.nn as nn
from safetensors.torch import load_file


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(13, 16, 2, batch_first=True, bidirectional=True)
        self.output = nn.Linear(32, 7)

    def forward(self, x):
        return self.output(self.rnn(x)[0])


def main():
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([".build/release/hark-bench", "export-model", d], check=True)
        m = Model()
        m.load_state_dict(load_file(f"{d}/model.safetensors"), strict=True)
        io = load_file(f"{d}/io.safetensors")
        with torch.no_grad():
            y = m(io["input"])
        err = (y - io["output"]).abs().max().item()
        print(f"torch {torch.__version__}: strict load OK; max |PyTorch - Hark| = {err:.3g}")
        sys.exit(0 if err <= 1e-5 else 1)


if __name__ == "__main__":
    main()
