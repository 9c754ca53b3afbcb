#!/usr/bin/env python3
"""Writes a small model in Hark's format from PyTorch, with features and
PyTorch's log-probabilities, for Hark's model-format test.

    python scripts/make_model_fixtures.py

Writes Tests/HarkASRTests/Fixtures/torch-model/{config.json, model.safetensors}
and Tests/HarkASRTests/Fixtures/torch-model-io.safetensors (input features of
audio/an52-mmaf-b.wav computed by python/hark_ctc.py, and PyTorch's log-probs).
"""
import json
import platform
import sys
from pathlib import Path

import torch
import torchaudio
from safetensors.torch import save_file

sys.path.insert(0, "python")
from hark_ctc import HarkCTC, features, save  # noqa: E402

OUT = Path("Tests/HarkASRTests/Fixtures")


def conv_model():
    """A model with every newer part: a convolutional front end (2 layers, Hardtanh), LSTM
    projections, CMVN over the speech frames. Written to torch-model-conv/ and
    torch-model-conv-io.safetensors (features of the bundled sample with 0.5 s of -80 dBFS
    noise around it, and PyTorch's log-probabilities)."""
    torch.manual_seed(4)
    f = {"type": "fbank", "num_mel_bins": 24, "cmvn": "meanvar", "cmvn_frames": "speech", "deltas": 0}
    tokens = ["<blank>", " ", "'"] + [chr(c) for c in range(ord("A"), ord("Z") + 1)]
    frontend = {"conv": [{"channels": 4, "kernel": [3, 3], "stride": [2, 2], "padding": [1, 1]},
                         {"channels": 6, "kernel": [3, 3], "stride": [1, 2], "padding": [1, 1]}],
                "activation": "hardtanh"}
    config = {"sample_rate": 16000, "features": f, "stack_frames": 1, "frontend": frontend,
              "network": {"cell": "lstm", "input_size": 36, "hidden_size": 24, "num_layers": 2,
                          "bidirectional": True, "dropout": 0.0, "proj_size": 16},
              "tokens": tokens, "blank": 0, "text": {"case": "upper", "keep": " 'ABCDEFGHIJKLMNOPQRSTUVWXYZ"}}
    model = HarkCTC(config).eval()
    # Defaults the Swift side reads when keys are absent: write the whole features object as Hark does.
    full = dict(json.loads((OUT / "torch-model" / "config.json").read_text())["features"])
    full.update(f)
    config["features"] = full
    save(model, config, OUT / "torch-model-conv")
    import numpy as np
    import soundfile
    x, rate = soundfile.read("audio/an52-mmaf-b.wav", dtype="float32")
    g = np.random.default_rng(1)
    pad = lambda: (g.standard_normal(8000) * 1e-4).astype(np.float32)
    padded = np.concatenate([pad(), x, pad()])
    path = "/tmp/hark-conv-fixture.wav"
    soundfile.write(path, padded, rate, subtype="FLOAT")
    feats = features(path, config)
    with torch.no_grad():
        lp = model(feats.unsqueeze(0))[0]
    save_file({"input": feats.contiguous(), "log_probs": lp.contiguous(), "samples": torch.from_numpy(padded)},
              str(OUT / "torch-model-conv-io.safetensors"),
              metadata={"generator": "scripts/make_model_fixtures.py conv", "torch": torch.__version__,
                        "torchaudio": torchaudio.__version__, "python": platform.python_version()})
    print(f"conv model: input {tuple(feats.shape)}, log-probs {tuple(lp.shape)}")


def main():
    if sys.argv[1:] == ["conv"]:
        return conv_model()
    torch.manual_seed(3)
    f = {"type": "fbank", "sample_frequency": 16000.0, "frame_length": 25.0, "frame_shift": 10.0,
         "preemphasis_coefficient": 0.97, "remove_dc_offset": True, "window_type": "povey", "blackman_coeff": 0.42,
         "round_to_power_of_two": True, "snip_edges": True, "dither": 0.0, "dither_seed": 0, "num_mel_bins": 20,
         "low_freq": 20.0, "high_freq": 0.0, "use_energy": False, "energy_floor": 0.0, "raw_energy": True,
         "use_log_fbank": True, "use_power": True, "cmvn": "meanvar", "deltas": 0, "delta_window": 2}
    tokens = ["<blank>", " ", "'"] + [chr(c) for c in range(ord("A"), ord("Z") + 1)]
    config = {"sample_rate": 16000, "features": f, "stack_frames": 2,
              "network": {"cell": "gru", "input_size": 40, "hidden_size": 16, "num_layers": 2,
                          "bidirectional": True, "dropout": 0.0},
              "tokens": tokens, "blank": 0, "text": {"case": "upper", "keep": " 'ABCDEFGHIJKLMNOPQRSTUVWXYZ"}}
    model = HarkCTC(config).eval()
    save(model, config, OUT / "torch-model")
    x = features("audio/an52-mmaf-b.wav", config)
    with torch.no_grad():
        lp = model(x.unsqueeze(0))[0]
    save_file({"input": x.contiguous(), "log_probs": lp.contiguous()}, str(OUT / "torch-model-io.safetensors"),
              metadata={"generator": "scripts/make_model_fixtures.py", "torch": torch.__version__,
                        "torchaudio": torchaudio.__version__, "python": platform.python_version()})
    print(f"input {tuple(x.shape)}, log-probs {tuple(lp.shape)}")


if __name__ == "__main__":
    main()
