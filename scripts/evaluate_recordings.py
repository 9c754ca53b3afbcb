#!/usr/bin/env python3
"""Scores a model on held-out speakers as cut and as people record them, run by hand.

    python3 scripts/evaluate_recordings.py HARK MODEL [--work build] [-- EXTRA HARK FLAGS]

Needs the manifests of scripts/train_default_model.sh (WORK/default/an4-valid.jsonl,
fsdd-valid.jsonl) and the conditions of scripts/make_test_conditions.py
(WORK/conditions) and scripts/make_recording_conditions.py (WORK/recordings).
Prints one line per figure, each with the target it is held to:

  clean, 8k, snr20, snr10   hark eval of the AN4 utterances as cut and under each condition
  padded                    the same utterances with 1 s of near-silence around them
  long / long --stream      sessions of 24 utterances with pauses, offline and streamed
                            (finals joined), against the utterances one by one
  fsdd cut / padded         the held-out FSDD speaker's digits, share exactly right
  fsdd strings              five of his digits in one file with pauses: share exactly right
  word times                on the strings, where the hypothesis has the reference's
                            words: |start error| and |end error| against the clips' spans
  first word                on the padded utterances: |first word's start - speech onset|,
                            the onset by Silero VAD (scripts/reference/an4-speech-onsets.json,
                            made by scripts/make_onset_reference.py) and by the energy rule
                            of scripts/make_recording_conditions.py
  calibration               expected calibration error of word confidences, per condition
                            (when hark eval prints it)

Extra flags after -- go to every hark eval and hark transcribe (e.g. --no-segment).
Standard library only.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys


def distance(a, b):
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout


def evaluate(hark, model, manifest, extra):
    """{"cer", "wer", "ser", "ece"} in percent (ece as a fraction) from hark eval's stdout."""
    out = run([hark, "eval", "--model", model, manifest] + extra)
    figures = {}
    for name in ("CER", "WER", "SER"):
        m = re.search(rf"^{name} ([0-9.]+)%", out, re.M)
        figures[name.lower()] = float(m.group(1)) if m else None
    m = re.search(r"^ECE ([0-9.]+)", out, re.M)
    figures["ece"] = float(m.group(1)) if m else None
    return figures


def transcripts(hark, model, manifest, extra):
    """JSON transcripts of a manifest's recordings, in order."""
    out = run([hark, "transcribe", "--model", model, "--format", "json", manifest] + extra)
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def entries(manifest):
    return [json.loads(line) for line in open(manifest) if line.strip()]


def streamed_wer(hark, model, manifest, extra):
    we = wn = 0
    for e in entries(manifest):
        out = run([hark, "transcribe", "--model", model, "--stream", e["audio_filepath"]] + extra)
        hyp = " ".join(r["text"] for r in map(json.loads, out.splitlines()) if r["type"] == "final").split()
        ref = e["text"].split()
        we += distance(ref, hyp)
        wn += len(ref)
    return 100 * we / wn


def line(name, value, target=""):
    print(f"{name:<34} {value:<28} {target}")


def main():
    if "--" in sys.argv:
        k = sys.argv.index("--")
        argv, extra = sys.argv[1:k], sys.argv[k + 1:]
    else:
        argv, extra = sys.argv[1:], []
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("hark")
    ap.add_argument("model")
    ap.add_argument("--work", default="build")
    args = ap.parse_args(argv)
    hark, model, w = args.hark, args.model, args.work
    rec, cond = os.path.join(w, "recordings"), os.path.join(w, "conditions")
    an4, fsdd = os.path.join(w, "default", "an4-valid.jsonl"), os.path.join(w, "default", "fsdd-valid.jsonl")
    eces = {}

    clean = evaluate(hark, model, an4, extra)
    eces["clean"] = clean["ece"]
    line("clean CER / WER", f"{clean['cer']:.2f}% / {clean['wer']:.2f}%")
    for c in ("8k", "snr20", "snr10"):
        f = evaluate(hark, model, os.path.join(cond, c + ".jsonl"), extra)
        eces[c] = f["ece"]
        line(f"{c} CER / WER", f"{f['cer']:.2f}% / {f['wer']:.2f}%")
    padded = evaluate(hark, model, os.path.join(rec, "padded.jsonl"), extra)
    eces["padded"] = padded["ece"]
    line("padded 1 s CER / WER", f"{padded['cer']:.2f}% / {padded['wer']:.2f}%",
         f"target CER <= {clean['cer'] + 1:.2f}% (clean + 1)")
    long = evaluate(hark, model, os.path.join(rec, "long.jsonl"), extra)
    eces["long"] = long["ece"]
    line("long sessions WER (offline)", f"{long['wer']:.2f}%", f"target <= {clean['wer'] + 2:.2f}% (one by one + 2)")
    if "--no-segment" not in extra:
        line("long sessions WER (--stream)", f"{streamed_wer(hark, model, os.path.join(rec, 'long.jsonl'), extra):.2f}%",
             f"target <= {clean['wer'] + 3:.2f}% (one by one + 3)")
    cut = evaluate(hark, model, fsdd, extra)
    pad = evaluate(hark, model, os.path.join(rec, "fsdd-padded.jsonl"), extra)
    line("fsdd exactly right, cut / padded", f"{100 - cut['ser']:.1f}% / {100 - pad['ser']:.1f}%", "target padded >= cut")
    strings = evaluate(hark, model, os.path.join(rec, "fsdd-strings.jsonl"), extra)
    line("fsdd 5-digit strings exactly right", f"{100 - strings['ser']:.1f}%", "target >= 75%")

    starts, ends = [], []
    refs = entries(os.path.join(rec, "fsdd-strings.jsonl"))
    for e, t in zip(refs, transcripts(hark, model, os.path.join(rec, "fsdd-strings.jsonl"), extra)):
        if [x["word"] for x in t["words"]] == [x["word"] for x in e["words"]]:
            for h, r in zip(t["words"], e["words"]):
                starts.append(abs(h["start"] - r["start"]))
                ends.append(abs(h["end"] - r["end"]))
    if starts:
        within = sum(1 for a, b in zip(starts, ends) if a <= 0.1 and b <= 0.1) / len(starts)
        line("word times: median |start| / |end|", f"{1000 * statistics.median(starts):.0f} / {1000 * statistics.median(ends):.0f} ms",
             "target <= 50 ms each")
        line("word times: both within 100 ms", f"{100 * within:.1f}% of {len(starts)} words", "target >= 90%")
    reference = json.load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference",
                                            "an4-speech-onsets.json")))["onsets"]
    by_vad, by_energy = [], []
    refs = entries(os.path.join(rec, "padded.jsonl"))
    for e, t in zip(refs, transcripts(hark, model, os.path.join(rec, "padded.jsonl"), extra)):
        if t["words"]:
            start = t["words"][0]["start"]
            by_energy.append(abs(start - e["speech_start"]))
            onset = reference.get(os.path.splitext(os.path.basename(e["audio_filepath"]))[0])
            if onset is not None and "clip_start" in e:
                by_vad.append(abs(start - (e["clip_start"] + onset)))
    for name, errors, target in (("Silero VAD", by_vad, "target >= 90%"), ("energy rule", by_energy, "")):
        if errors:
            line(f"first word within 150 ms of onset ({name})", f"{100 * sum(o <= 0.15 for o in errors) / len(errors):.1f}% "
                 f"of {len(errors)} (median {1000 * statistics.median(errors):.0f} ms)", target)
    if any(v is not None for v in eces.values()):
        line("calibration ECE", ", ".join(f"{k} {v:.3f}" for k, v in eces.items() if v is not None), "target <= 0.03 each")


if __name__ == "__main__":
    main()
