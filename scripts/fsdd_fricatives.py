#!/usr/bin/env python3
"""How strong each FSDD speaker's /s/ of SIX is, against their vowels.

For each speaker's fifty SIXes (6_<speaker>_<take>.wav, 8 kHz): short-time
spectra (20 ms Hann windows, 10 ms hop); the energy between 2.5 and 4 kHz
averaged over the first quarter of the clip (the /s/), in dB against the
loudest frame's energy below 1 kHz (the vowel); and the loudest frame between
2.5 and 3.8 kHz against that band's 10th percentile (the noise floor).
Medians over the takes. Needs numpy.

    python3 scripts/fsdd_fricatives.py ../shared/data/fsdd/recordings
"""
import glob
import os
import sys
import wave

import numpy as np


def spectra(path):
    with wave.open(path) as w:
        rate = w.getframerate()
        x = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(float)
    n = int(0.02 * rate)
    frames = [x[i:i + n] * np.hanning(n) for i in range(0, len(x) - n, n // 2)]
    return np.array([np.abs(np.fft.rfft(f)) ** 2 for f in frames]), np.fft.rfftfreq(n, 1 / rate)


def main(directory):
    speakers = sorted({os.path.basename(p).split("_")[1] for p in glob.glob(os.path.join(directory, "6_*.wav"))})
    print("speaker   /s/ vs vowel (dB)   2.5-3.8 kHz peak over floor (dB)")
    for speaker in speakers:
        onset, floor = [], []
        for path in sorted(glob.glob(os.path.join(directory, f"6_{speaker}_*.wav"))):
            s, f = spectra(path)
            high = s[:, f >= 2500].sum(1)
            low = s[:, f < 1000].sum(1)
            quarter = max(1, len(s) // 4)
            onset.append(10 * np.log10(high[:quarter].mean() / (low.max() + 1e-9) + 1e-12))
            band = s[:, (f >= 2500) & (f < 3800)].sum(1)
            floor.append(10 * np.log10(band.max() / (np.percentile(band, 10) + 1e-9)))
        print(f"{speaker:9s} {np.median(onset):8.1f} {np.median(floor):20.1f}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/fsdd/recordings")
