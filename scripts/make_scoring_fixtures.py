#!/usr/bin/env python3
"""Writes Tests/HarkASRTests/Fixtures/scoring_reference.json: reference word
error counts and bootstrap confidence intervals for Hark's scoring.

The reference is kaldialign (PyPI), which wraps Kaldi's own
`LevenshteinEditDistance`, `LevenshteinAlignment` and the bootstrap of
`compute-wer-bootci` (`GetBootstrapWerInterval`: utterances drawn with
replacement, 10000 replications, mean ± 1.96 standard deviations).

The utterances are synthetic but shaped like ASR output: references of 1–14
words from a small vocabulary, hypotheses with random substitutions,
deletions and insertions, and a few perfect ones, from a fixed seed.
Kaldi's random draws are not Hark's, so the intervals agree only up to the
bootstrap's own sampling noise; the tests allow for it.

Run from the repository root:

    /tmp/venv/bin/pip install kaldialign
    /tmp/venv/bin/python scripts/make_scoring_fixtures.py
"""
import json
import platform
import random
import sys

import kaldialign

rng = random.Random(20261130)
vocabulary = "ONE TWO THREE FOUR FIVE SIX SEVEN EIGHT NINE ZERO ENTER RUBOUT YES NO A B C".split()


def utterance():
    ref = [rng.choice(vocabulary) for _ in range(rng.randint(1, 14))]
    hyp = []
    for word in ref:
        r = rng.random()
        if r < 0.08:
            continue                                  # deletion
        hyp.append(rng.choice(vocabulary) if r < 0.2 else word)
        if rng.random() < 0.05:
            hyp.append(rng.choice(vocabulary))        # insertion
    return ref, hyp


sets = []
for size, replications in [(40, 10000), (200, 10000)]:
    pairs = [utterance() for _ in range(size)]
    refs, hyps = [p[0] for p in pairs], [p[1] for p in pairs]
    ci = kaldialign.bootstrap_wer_ci(refs, hyps, replications=replications, seed=0)
    errors = [kaldialign.edit_distance(r, h) for r, h in pairs]
    sets.append({
        "references": [" ".join(r) for r in refs],
        "hypotheses": [" ".join(h) for h in hyps],
        "edits": [{"sub": e["sub"], "del": e["del"], "ins": e["ins"], "total": e["total"]} for e in errors],
        "replications": replications,
        "wer_mean": ci["wer"],
        "ci95": ci["ci95"],
    })

out = {
    "generated_by": "scripts/make_scoring_fixtures.py",
    "versions": {"python": platform.python_version(), "kaldialign": getattr(kaldialign, "__version__", "?")},
    "command": "python " + " ".join(sys.argv),
    "sets": sets,
}
with open("Tests/HarkASRTests/Fixtures/scoring_reference.json", "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
print("wrote Tests/HarkASRTests/Fixtures/scoring_reference.json:",
      [(len(s["references"]), round(s["wer_mean"], 4), round(s["ci95"], 4)) for s in sets])
