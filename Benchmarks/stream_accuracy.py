"""Accuracy of live transcription (`hark transcribe --stream`) on a manifest, run by hand.

    python3 Benchmarks/stream_accuracy.py HARK MODEL MANIFEST

Streams each recording, joins its final results and scores them against the
transcript (CER, WER: Levenshtein over the whole manifest, as `hark eval`), and
counts how often a partial result was later revised (its words are not a prefix
of the utterance's final words). Standard library only.
"""
import json
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


def main():
    hark, model, manifest = sys.argv[1:4]
    ce = cn = we = wn = 0
    partials = revised = 0
    for line in open(manifest):
        entry = json.loads(line)
        out = subprocess.run([hark, "transcribe", "--model", model, "--stream", entry["audio_filepath"]],
                             capture_output=True, text=True, check=True).stdout
        results = [json.loads(l) for l in out.splitlines() if l.strip()]
        finals = [r for r in results if r["type"] == "final"]
        hyp = " ".join(r["text"] for r in finals)
        ref = " ".join(entry["text"].upper().split())
        ce += distance(ref, hyp); cn += len(ref)
        we += distance(ref.split(), hyp.split()); wn += len(ref.split())
        final_words = hyp.split()
        for r in results:
            if r["type"] == "partial":
                partials += 1
                words = r["text"].split()
                if words != final_words[:len(words)]:
                    revised += 1
    print(json.dumps({"model": model, "manifest": manifest, "cer": round(100 * ce / cn, 2), "wer": round(100 * we / wn, 2),
                      "partials": partials, "partials_revised_percent": round(100 * revised / max(1, partials), 1)}))


if __name__ == "__main__":
    main()
