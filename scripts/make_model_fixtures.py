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


def main():
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
