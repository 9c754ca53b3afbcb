#!/usr/bin/env python3
"""Writes the reference features Hark's feature tests compare against.

The reference is torchaudio's `compliance.kaldi` module, a port of Kaldi's
compute-mfcc-feats / compute-fbank-feats. Inputs are the real-speech samples
in audio/ (16 kHz AN4, 8 kHz FSDD). Kaldi reads 16-bit WAV files as integer
sample values, so the [-1, 1] waveform is scaled by 32768 first, exactly as
Hark does.

Run from the repository root, with PyTorch and torchaudio installed
(e.g. a venv outside the repository):
    python scripts/make_feature_fixtures.py
It writes Tests/HarkFeaturesTests/Fixtures/{cases.json,<case>.npy}.
"""
import json
import platform
import sys
from pathlib import Path

import numpy as np
import soundfile
import torch
import torchaudio
import torchaudio.compliance.kaldi as kaldi

OUT = Path("Tests/HarkFeaturesTests/Fixtures")
AN4 = "audio/an52-mmaf-b.wav"      # 16 kHz
FSDD = "audio/7_jackson_0.wav"     # 8 kHz

# Each case: Hark's option names (Kaldi's, '-' → '_'), the input, and the
# tolerance on the maximum absolute difference. torchaudio gets the same
# options under its own argument names (it has no `type`, `cmvn`, `deltas`).
CASES = [
    ("mfcc_defaults_16k", AN4, {"type": "mfcc"}),
    ("fbank_defaults_16k", AN4, {"type": "fbank"}),
    ("fbank80_hamming_nosnip_energy_16k", AN4,
     {"type": "fbank", "num_mel_bins": 80, "window_type": "hamming", "snip_edges": False, "use_energy": True}),
    ("mfcc_hanning_nosnip_noenergy_8k", FSDD,
     {"type": "mfcc", "sample_frequency": 8000, "window_type": "hanning", "snip_edges": False,
      "use_energy": False, "high_freq": -200}),
    ("fbank_rectangular_energy_after_window_8k", FSDD,
     {"type": "fbank", "sample_frequency": 8000, "window_type": "rectangular", "use_energy": True,
      "raw_energy": False, "num_mel_bins": 15}),
    ("mfcc_blackman_40bins_20ceps_nolifter_16k", AN4,
     {"type": "mfcc", "window_type": "blackman", "blackman_coeff": 0.42, "num_mel_bins": 40, "num_ceps": 20,
      "cepstral_lifter": 0.0, "low_freq": 64, "high_freq": 7600}),
    ("fbank_magnitude_nopow2_nodc_nopreemph_16k", AN4,
     {"type": "fbank", "round_to_power_of_two": False, "use_power": False, "remove_dc_offset": False,
      "preemphasis_coefficient": 0.0, "num_mel_bins": 40}),
    ("mfcc_energy_floor_blackman_nosnip_8k", FSDD,
     {"type": "mfcc", "sample_frequency": 8000, "window_type": "blackman", "snip_edges": False,
      "energy_floor": 1.0e8, "raw_energy": False, "frame_length": 20, "frame_shift": 12.5}),
    ("fbank_povey_energy_floor_nosnip_8k", FSDD,
     {"type": "fbank", "sample_frequency": 8000, "snip_edges": False, "use_energy": True,
      "energy_floor": 5.0e7, "num_mel_bins": 20, "low_freq": 100, "high_freq": 3800}),
    ("fbank_linear_energies_16k", AN4,
     {"type": "fbank", "use_log_fbank": False, "num_mel_bins": 23}),
    ("mfcc_cmvn_meanvar_deltas_16k", AN4,
     {"type": "mfcc", "cmvn": "meanvar", "deltas": 1}),
    ("fbank_cmvn_mean_16k", AN4,
     {"type": "fbank", "num_mel_bins": 40, "cmvn": "mean"}),
    # Vocal tract length warps of the filterbank (hark train --vtln draws them per utterance).
    ("fbank_vtln_0.9_16k", AN4,
     {"type": "fbank", "num_mel_bins": 40, "vtln_warp": 0.9}),
    ("mfcc_vtln_1.12_knees_8k", FSDD,
     {"type": "mfcc", "sample_frequency": 8000, "num_mel_bins": 23, "vtln_warp": 1.12, "vtln_low": 200,
      "vtln_high": -300}),
]

TORCHAUDIO_NAMES = {
    "sample_frequency": "sample_frequency", "frame_length": "frame_length", "frame_shift": "frame_shift",
    "preemphasis_coefficient": "preemphasis_coefficient", "remove_dc_offset": "remove_dc_offset",
    "window_type": "window_type", "blackman_coeff": "blackman_coeff",
    "round_to_power_of_two": "round_to_power_of_two", "snip_edges": "snip_edges",
    "num_mel_bins": "num_mel_bins", "low_freq": "low_freq", "high_freq": "high_freq",
    "num_ceps": "num_ceps", "cepstral_lifter": "cepstral_lifter", "use_energy": "use_energy",
    "raw_energy": "raw_energy", "energy_floor": "energy_floor", "use_log_fbank": "use_log_fbank",
    "use_power": "use_power", "vtln_low": "vtln_low", "vtln_high": "vtln_high", "vtln_warp": "vtln_warp",
}


def reference(path, opts):
    samples, rate = soundfile.read(path, dtype="float32")
    wave = torch.from_numpy(samples * 32768.0).unsqueeze(0)
    kw = {TORCHAUDIO_NAMES[k]: v for k, v in opts.items() if k in TORCHAUDIO_NAMES}
    kw.setdefault("sample_frequency", 16000)
    kw["dither"] = 0.0
    if opts["type"] == "mfcc":
        # Kaldi's MFCC default is use_energy=true; torchaudio's is False.
        kw.setdefault("use_energy", True)
        feats = kaldi.mfcc(wave, **kw)
    else:
        feats = kaldi.fbank(wave, **kw)
    x = feats.double()
    cmvn = opts.get("cmvn", "none")
    if cmvn != "none":
        # apply-cmvn with the utterance's own statistics (double precision).
        mean = x.mean(0, keepdim=True)
        x = x - mean
        if cmvn == "meanvar":
            var = (feats.double() ** 2).mean(0, keepdim=True) - mean ** 2
            x = x / var.clamp_min(1e-20).sqrt()
    order = opts.get("deltas", 0)
    if order:
        # Kaldi add-deltas, order 1, window 2 = torchaudio's compute_deltas with
        # win_length 5 (replicate padding = Kaldi's clamping at the edges).
        assert order == 1
        d = torchaudio.functional.compute_deltas(x.T.unsqueeze(0).float(), win_length=5)[0].T.double()
        x = torch.cat([x, d], dim=1)
    return x.float().numpy()


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    cases = []
    for name, path, opts in CASES:
        ref = reference(path, opts)
        np.save(OUT / f"{name}.npy", ref)
        linear = opts.get("use_log_fbank", True) is False
        cases.append({
            "name": name, "input": path, "options": opts,
            "shape": list(ref.shape),
            # Log-domain values: 1e-3 absolute. Linear filterbank energies are
            # on the 16-bit scale squared (up to ~1e12): compared relatively.
            "tolerance": {"relative": 1e-4} if linear else {"absolute": 1e-3},
        })
        print(f"{name}: {ref.shape}", file=sys.stderr)
    meta = {
        "generator": "scripts/make_feature_fixtures.py",
        "command": "python scripts/make_feature_fixtures.py",
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "torchaudio": torchaudio.__version__, "numpy": np.__version__,
                     "soundfile": soundfile.__version__},
        "cases": cases,
    }
    (OUT / "cases.json").write_text(json.dumps(meta, indent=1) + "\n")


if __name__ == "__main__":
    main()
