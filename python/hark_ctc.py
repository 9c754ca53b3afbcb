"""Hark's model format in PyTorch.

A Hark model directory holds config.json and model.safetensors, the
state_dict() of HarkCTC below. A model trained by Hark runs here, and a model
trained here runs in Hark:

    from hark_ctc import load, save
    model, config = load("models/an4-blstm")          # strict load_state_dict
    log_probs = model(features)                       # [B, T, input_size] -> [B, T, tokens]
    save(model, config, "my-model")

`features(path, config)` computes the network's input for a recording with
torchaudio's Kaldi-compatible features (the same algorithm as Hark's, equal to
within about 1e-3 in the log domain), CMVN, deltas and frame stacking as the
config says.
"""
import json
from pathlib import Path

import torch
import torch.nn as nn
from safetensors.torch import load_file, save_file


class HarkCTC(nn.Module):
    def __init__(self, c):
        super().__init__()
        f = c.get("frontend")
        if f:
            # Convolutions over (time, frequency), each followed by its activation: frontend.0, frontend.2, …
            act = {"relu": lambda: nn.ReLU(), "hardtanh": lambda: nn.Hardtanh(0, 20), "none": lambda: nn.Identity()}[f["activation"]]
            layers, channels = [], 1
            for l in f["conv"]:
                layers += [nn.Conv2d(channels, l["channels"], tuple(l["kernel"]), tuple(l["stride"]), tuple(l["padding"])), act()]
                channels = l["channels"]
            self.frontend = nn.Sequential(*layers)
        n = c["network"]; RNN = {"lstm": nn.LSTM, "gru": nn.GRU}.get(n["cell"], nn.RNN)
        kw = {"nonlinearity": n["cell"][4:]} if n["cell"].startswith("rnn_") else {}
        if n.get("proj_size", 0):
            kw["proj_size"] = n["proj_size"]
        self.rnn = RNN(n["input_size"], n["hidden_size"], n["num_layers"], batch_first=True,
                       bidirectional=n["bidirectional"], dropout=n["dropout"], **kw)
        width = n.get("proj_size", 0) or n["hidden_size"]
        self.output = nn.Linear(width * (2 if n["bidirectional"] else 1), len(c["tokens"]))

    def forward(self, x):            # x: [B, T, F·stack] stacked features
        if hasattr(self, "frontend"):
            y = self.frontend(x.unsqueeze(1))                         # [B, C, T', F']
            x = y.transpose(1, 2).reshape(y.shape[0], y.shape[2], -1)  # [B, T', C·F']
        return self.output(self.rnn(x)[0]).log_softmax(-1)


def load(model_dir):
    """The model (strictly loaded, in eval mode) and its config."""
    d = Path(model_dir)
    config = json.loads((d / "config.json").read_text())
    model = HarkCTC(config)
    model.load_state_dict(load_file(str(d / "model.safetensors")), strict=True)
    return model.eval(), config


def save(model, config, model_dir):
    d = Path(model_dir)
    d.mkdir(parents=True, exist_ok=True)
    (d / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    save_file({k: v.detach().float().contiguous() for k, v in model.state_dict().items()},
              str(d / "model.safetensors"), metadata={"format": "pt"})


_TORCHAUDIO = ["frame_length", "frame_shift", "preemphasis_coefficient", "remove_dc_offset", "window_type",
               "blackman_coeff", "round_to_power_of_two", "snip_edges", "num_mel_bins", "low_freq", "high_freq",
               "use_energy", "raw_energy", "energy_floor", "vtln_low", "vtln_high", "vtln_warp"]


def stack(x, k):
    """[T, F] -> [T // k, k * F]: frames t*k ... t*k+k-1 concatenated, oldest first."""
    t = x.shape[0] // k
    return x[: t * k].reshape(t, k * x.shape[1])


def features(path, config):
    """The network input [T, input_size] for an audio file, as Hark computes it."""
    import soundfile
    import torchaudio
    import torchaudio.compliance.kaldi as kaldi
    f = config["features"]
    samples, rate = soundfile.read(path, dtype="float32", always_2d=True)
    wave = torch.from_numpy(samples.mean(1)).unsqueeze(0)
    if rate != config["sample_rate"]:
        wave = torchaudio.functional.resample(wave, rate, config["sample_rate"])
    wave = wave * 32768.0
    kw = {k: f[k] for k in _TORCHAUDIO if k in f}
    kw.update(sample_frequency=config["sample_rate"], dither=0.0)
    if f["type"] == "mfcc":
        kw.update(num_ceps=f["num_ceps"], cepstral_lifter=f["cepstral_lifter"])
        x = kaldi.mfcc(wave, **kw)
    else:
        kw.update(use_log_fbank=f["use_log_fbank"], use_power=f["use_power"])
        x = kaldi.fbank(wave, **kw)
    x = x.double()
    if f["cmvn"] != "none":
        # Statistics over all frames, or (cmvn_frames "speech") over the frames within 40 dB of the
        # loudest, a frame's level from its features in whole decibels, as Hark bins them.
        used = x
        if f.get("cmvn_frames", "all") == "speech":
            xf = x.float()
            if f.get("use_energy", f["type"] == "mfcc"):
                level = xf[:, 0]
            elif f["type"] == "fbank":
                level = torch.logsumexp(xf, 1) if f["use_log_fbank"] else torch.log(xf.sum(1).clamp_min(1e-38))
            else:
                level = xf[:, 0] / f["num_mel_bins"] ** 0.5
            decibels = torch.floor((level * (10 / torch.log(torch.tensor(10.0)))).clamp(-1000, 1000))
            used = x[decibels >= decibels.max() - 40]
        mean = used.mean(0, keepdim=True)
        var = (used ** 2).mean(0, keepdim=True) - mean ** 2
        x = x - mean
        if f["cmvn"] == "meanvar":
            x = x / var.clamp_min(1e-20).sqrt()
    x = x.float()
    if f["deltas"]:
        parts = [x]
        for _ in range(f["deltas"]):
            parts.append(torchaudio.functional.compute_deltas(parts[-1].T.unsqueeze(0),
                                                              win_length=2 * f["delta_window"] + 1)[0].T)
        x = torch.cat(parts, 1)
    return stack(x, config["stack_frames"])
