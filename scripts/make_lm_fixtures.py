#!/usr/bin/env python3
"""Writes the reference data of Tests/HarkLMTests/Fixtures.

Reference values come from outside Hark:

* KenLM's query code (the `kenlm` module from PyPI) scores sentences with
  `Model.score(sentence, bos, eos)` and `Model.full_scores(...)` against
  - hand.arpa: a hand-written trigram model in which sentences back off at
    every order (also written gzip-compressed, hand.arpa.gz);
  - lmplz-3.arpa: KenLM's own estimator, lmplz, on corpus.txt (when lmplz is
    available: --lmplz PATH, or --build-lmplz to compile it from the `kenlm`
    source distribution on PyPI);
  - hark-3.arpa: the same corpus built by `hark lm` (--hark PATH), so that
    KenLM also reads and scores what Hark writes.
* The estimator is checked against lmplz's ARPA files (orders 2–4, and with
  pruning) and against a from-scratch Python implementation of interpolated
  modified Kneser-Ney (`reference_mkn` below, written from Chen & Goodman 1998
  and Heafield et al. 2013), which this script also compares with lmplz.

Run from the repository root (needs numpy-free Python ≥ 3.8 and kenlm):

    /tmp/venv/bin/pip install kenlm
    swift build
    /tmp/venv/bin/python scripts/make_lm_fixtures.py --hark .build/debug/hark --build-lmplz

--build-lmplz installs cmake and Boost from Debian (apt-get) and compiles
lmplz under /tmp; it is for making fixtures only, never for CI.
"""

import argparse
import gzip
import json
import math
import os
import random
import subprocess
import sys
import tarfile
from collections import defaultdict

FIXTURES = os.path.join("Tests", "HarkLMTests", "Fixtures")

HAND_ARPA = """\
\\data\\
ngram 1=7
ngram 2=8
ngram 3=5

\\1-grams:
-1.5\t<unk>\t0
-99\t<s>\t-0.6
-1.0\t</s>
-0.8\tA\t-0.3
-0.9\tB\t-0.25
-1.1\tC\t-0.2
-1.3\tD

\\2-grams:
-0.4\t<s> A\t-0.15
-0.7\t<s> B\t0
-0.5\tA B\t-0.1
-0.6\tB C\t-0.35
-0.45\tC </s>
-0.9\tA A\t-0.05
-0.35\tB A\t-0.12
-0.8\tC D

\\3-grams:
-0.2\t<s> A B
-0.3\tA B C
-0.25\t<s> B C
-0.15\tB C </s>
-0.33\tA A B

\\end\\
"""

# Sentences for hand.arpa: full matches, back-off from every order, unknown
# words (X, Y), an explicit <unk>, the empty sentence.
HAND_SENTENCES = [
    "A B C", "A A B C D", "B C", "D D A", "A X B", "C", "", "A B C D A B C",
    "<unk> A", "B A B C", "X Y", "D C </s>", "A B D", "B B B",
]

WORDS = ("THE A CAT DOG BIRD FISH SAT RAN ATE SAW ON UNDER NEAR MAT LOG TREE "
         "BONE RED BIG SMALL AND QUICKLY SLOWLY HOME").split()


def make_corpus(n_sentences=400, seed=7):
    """A seeded toy corpus with a skewed (Zipf-like) word distribution and some
    structure, so every order has n-grams seen once, twice, three and four times."""
    rng = random.Random(seed)
    weights = [1.0 / (i + 1) for i in range(len(WORDS))]
    subjects = ["THE CAT", "THE DOG", "A BIRD", "THE BIG DOG", "A SMALL CAT", "THE FISH"]
    verbs = ["SAT ON", "RAN UNDER", "ATE", "SAW", "SAT NEAR", "RAN HOME"]
    objects = ["THE MAT", "THE LOG", "A TREE", "THE BONE", "THE RED MAT", "A FISH"]
    out = []
    for _ in range(n_sentences):
        if rng.random() < 0.7:
            s = " ".join([rng.choice(subjects), rng.choice(verbs), rng.choice(objects)])
            if rng.random() < 0.3:
                s += " " + rng.choice(["QUICKLY", "SLOWLY", "AND " + rng.choice(subjects) + " " + rng.choice(verbs)])
        else:
            s = " ".join(rng.choices(WORDS, weights, k=rng.randint(1, 7)))
        if rng.random() < 0.3:
            # A rare word (a name), so that low orders have n-grams seen once and twice too.
            words = s.split()
            words.insert(rng.randint(0, len(words)), f"NAME{rng.randint(0, 59):02d}")
            s = " ".join(words)
        out.append(s)
    return out


def corpus_sentences(corpus):
    """Sentences for the corpus models: seen, unseen orders of known words, unknown words."""
    return [
        "THE CAT SAT ON THE MAT", "A BIRD RAN HOME QUICKLY", "THE DOG ATE THE BONE AND THE CAT SAW A FISH",
        "MAT THE ON SAT CAT THE", "THE ZEBRA SAT ON THE MAT", "ZEBRA", "", "SLOWLY SLOWLY SLOWLY",
        "THE BIG RED TREE RAN UNDER A SMALL LOG", corpus[0], corpus[1], corpus[2],
    ]


# --- Interpolated modified Kneser-Ney, from the formulas ----------------------

def reference_mkn(sentences, order, prune=()):
    """Returns {ngram tuple: (log10 p, log10 backoff or None)} for the model of
    `sentences` (lists of words), as lmplz estimates it:

    * every sentence is <s> w1 ... wk </s>; n-grams of order 1..N are counted,
      the unigram <s> excepted;
    * adjusted count a(g) = c(g) at order N or when g starts with <s>, else the
      number of distinct words preceding g (continuation count); a(<s>) =
      a(<unk>) = 0;
    * per order, t_k = #{g : a(g) = k}, Y = t1 / (t1 + 2 t2),
      D_k = k - (k+1) Y t_{k+1} / t_k (Chen & Goodman 1998, eq. 26);
    * for a context h: S(h) = sum_w a(h w); gamma(h) = (sum over kept h w of
      D(a) + sum over pruned h w of a) / S(h); p(h w) = (a - D(a)) / S(h) +
      gamma(h) p(h' w), and p(w) = (a - D(a)) / S + gamma / (|V| - 1);
    * pruning (orders >= 2): drop g with c(g) <= threshold of its order;
    * back-off of g = log10 gamma(g) if some longer n-gram starts with g.
    """
    BOS, EOS, UNK = "<s>", "</s>", "<unk>"
    counts = [defaultdict(int) for _ in range(order + 1)]  # counts[n][g]
    for s in sentences:
        seq = [BOS] + s + [EOS]
        for i in range(1, len(seq)):
            for n in range(1, order + 1):
                if i - n + 1 < 0:
                    break
                counts[n][tuple(seq[i - n + 1:i + 1])] += 1
    counts[1][(UNK,)] = 0
    counts[1][(BOS,)] = 0

    adjusted = [dict() for _ in range(order + 1)]
    adjusted[order] = dict(counts[order])
    for n in range(1, order):
        left = defaultdict(set)
        for g in counts[n + 1]:
            left[g[1:]].add(g[0])
        for g, c in counts[n].items():
            adjusted[n][g] = c if g[0] == BOS else len(left[g])
    adjusted[1][(UNK,)] = 0
    adjusted[1][(BOS,)] = 0

    def threshold(n):
        if n < 2 or not prune:
            return 0
        return prune[min(n - 2, len(prune) - 1)]

    def is_pruned(g):
        return len(g) >= 2 and counts[len(g)][g] <= threshold(len(g))

    discount = {}
    for n in range(1, order + 1):
        t = [0] * 5
        for a in adjusted[n].values():
            if 1 <= a <= 4:
                t[a] += 1
        y = t[1] / (t[1] + 2 * t[2])
        discount[n] = [0.0] + [k - (k + 1) * y * t[k + 1] / t[k] for k in (1, 2, 3)]

    def d(n, a):
        return discount[n][min(a, 3)] if a > 0 else 0.0

    total, gamma = {}, {}
    for n in range(1, order + 1):
        num = defaultdict(float)
        for g, a in adjusted[n].items():
            h = g[:-1]
            total[h] = total.get(h, 0) + a
            num[h] += a if is_pruned(g) else d(n, a)
        for h in num:
            gamma[h] = num[h] / total[h]

    vocab_size = len(adjusted[1]) - 1  # without <s>
    prob = {}
    for n in range(1, order + 1):
        for g, a in adjusted[n].items():
            if is_pruned(g):
                continue
            lower = 1.0 / vocab_size if n == 1 else prob[g[1:]]
            prob[g] = (a - d(n, a)) / total[g[:-1]] + gamma[g[:-1]] * lower
    prob[(BOS,)] = 1.0

    out = {}
    for g, p in prob.items():
        if len(g) == order:
            out[g] = (min(0.0, math.log10(p)), None)
        else:
            has_ext = g[-1] not in (UNK, EOS) and g in gamma
            out[g] = (min(0.0, math.log10(p)), math.log10(gamma[g]) if has_ext else 0.0)
    return out


def read_arpa(path):
    """{ngram tuple: (log10 p, log10 backoff or None)} of an ARPA file."""
    out, n = {}, 0
    for line in open(path, encoding="utf-8"):
        line = line.strip()
        if not line or line.startswith("ngram ") or line == "\\data\\" or line == "\\end\\":
            continue
        if line.startswith("\\") and line.endswith("-grams:"):
            n = int(line[1:line.index("-")])
            continue
        f = line.split()
        out[tuple(f[1:1 + n])] = (float(f[0]), float(f[1 + n]) if len(f) > n + 1 else None)
    return out


def max_difference(a, b):
    """Max |difference| of probabilities and back-offs (a missing back-off is 0); the key sets must agree."""
    if set(a) != set(b):
        only_a, only_b = sorted(set(a) - set(b))[:5], sorted(set(b) - set(a))[:5]
        raise SystemExit(f"n-gram sets differ: only in first {only_a}, only in second {only_b}")
    worst = 0.0
    for g in a:
        worst = max(worst, abs(a[g][0] - b[g][0]), abs((a[g][1] or 0) - (b[g][1] or 0)))
    return worst


# --- KenLM scores ---------------------------------------------------------------

def kenlm_scores(kenlm, path, sentences):
    model = kenlm.Model(path)
    cases = []
    for s in sentences:
        for bos in (True, False):
            for eos in (True, False):
                # [log10 p, n-gram length matched, out of vocabulary] per word, then </s> when eos.
                full = [[p, n, bool(o)] for p, n, o in model.full_scores(s, bos=bos, eos=eos)]
                cases.append({"sentence": s, "bos": bos, "eos": eos,
                              "score": model.score(s, bos=bos, eos=eos), "full_scores": full})
    return {"arpa": os.path.basename(path), "order": model.order, "cases": cases}


def build_lmplz(workdir="/tmp/hark-lmplz"):
    """Compiles KenLM's lmplz from the `kenlm` source distribution on PyPI."""
    binary = os.path.join(workdir, "build", "bin", "lmplz")
    if os.path.exists(binary):
        return binary
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "cmake", "g++", "zlib1g-dev",
                    "libboost-program-options-dev", "libboost-system-dev", "libboost-thread-dev", "libboost-test-dev"],
                   check=True)
    os.makedirs(workdir, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "kenlm==0.3.0", "--no-binary", "kenlm", "--no-deps",
                    "--no-build-isolation", "-d", workdir], check=True)
    with tarfile.open(os.path.join(workdir, "kenlm-0.3.0.tar.gz")) as t:
        t.extractall(workdir)
    build = os.path.join(workdir, "build")
    os.makedirs(build, exist_ok=True)
    subprocess.run(["cmake", "../kenlm-0.3.0", "-DCMAKE_BUILD_TYPE=Release"], cwd=build, check=True)
    subprocess.run(["make", "-j2", "lmplz"], cwd=build, check=True)
    return binary


def run_lmplz(lmplz, corpus_path, order, prune, out):
    cmd = [lmplz, "-o", str(order), "-S", "64M", "-T", "/tmp", "--text", corpus_path, "--arpa", out]
    if prune:
        cmd += ["--prune", "0"] + [str(p) for p in prune]
    subprocess.run(cmd, check=True, stderr=subprocess.DEVNULL)
    return " ".join(["lmplz"] + cmd[1:])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hark", help="the built hark binary (for hark-3.arpa)")
    ap.add_argument("--lmplz", help="KenLM's lmplz binary")
    ap.add_argument("--build-lmplz", action="store_true", help="compile lmplz from PyPI's kenlm sources (apt-get installs cmake, Boost)")
    args = ap.parse_args()
    import kenlm

    os.makedirs(FIXTURES, exist_ok=True)
    fx = lambda name: os.path.join(FIXTURES, name)
    versions = {"python": sys.version.split()[0], "kenlm": _version("kenlm")}
    commands = []

    # Hand-written model, plain and gzip (mtime 0: the bytes do not depend on when it was made).
    with open(fx("hand.arpa"), "w", encoding="utf-8") as f:
        f.write(HAND_ARPA)
    with open(fx("hand.arpa.gz"), "wb") as f:
        f.write(gzip.compress(HAND_ARPA.encode(), mtime=0))

    corpus = make_corpus()
    with open(fx("corpus.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(corpus) + "\n")
    sentences = [s.split() for s in corpus]

    scores = {"hand": kenlm_scores(kenlm, fx("hand.arpa"), HAND_SENTENCES)}
    estimator = {"corpus": "corpus.txt", "cases": []}
    lmplz = args.lmplz or (build_lmplz() if args.build_lmplz else None)
    configurations = [(1, ()), (2, ()), (3, ()), (4, ()), (3, (1,)), (4, (0, 1))]
    for order, prune in configurations:
        ref = reference_mkn(sentences, order, prune)
        name = f"lmplz-{order}" + ("-prune" + "-".join(map(str, prune)) if prune else "") + ".arpa"
        case = {"order": order, "prune": list(prune)}
        if lmplz:
            commands.append(run_lmplz(lmplz, fx("corpus.txt"), order, prune, fx(name)))
            diff = max_difference(read_arpa(fx(name)), ref)
            print(f"{name}: lmplz vs the Python reference: max |difference| {diff:.2e}")
            if diff > 1e-4:
                raise SystemExit(f"{name}: the Python reference disagrees with lmplz by {diff}")
            case["arpa"] = name
            case["python_reference_vs_lmplz"] = diff
        else:
            # Without lmplz, the Python reference is what Hark is checked against.
            case["reference"] = [[" ".join(g), p, b] for g, (p, b) in sorted(ref.items())]
        estimator["cases"].append(case)
    if lmplz:
        scores["lmplz"] = kenlm_scores(kenlm, fx("lmplz-3.arpa"), corpus_sentences(corpus))
        versions["lmplz"] = "kenlm 0.3.0 source distribution (PyPI), built with cmake Release"
    if args.hark:
        cmd = [args.hark, "lm", "--order", "3", "-o", fx("hark-3.arpa"), fx("corpus.txt")]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        commands.append("hark lm --order 3 -o hark-3.arpa corpus.txt")
        diff = max_difference(read_arpa(fx("hark-3.arpa")), reference_mkn(sentences, 3))
        print(f"hark-3.arpa vs the Python reference: max |difference| {diff:.2e}")
        scores["hark"] = kenlm_scores(kenlm, fx("hark-3.arpa"), corpus_sentences(corpus))

    made_by = "scripts/make_lm_fixtures.py" + (" --hark HARK" if args.hark else "") + \
        (" --lmplz LMPLZ" if args.lmplz else "") + (" --build-lmplz" if args.build_lmplz else "")
    meta = {"versions": versions, "commands": commands, "made_by": made_by}
    with open(fx("kenlm_scores.json"), "w") as f:
        json.dump({"meta": meta, "models": scores}, f, separators=(",", ":"))
        f.write("\n")
    with open(fx("estimator_reference.json"), "w") as f:
        json.dump({"meta": meta, **estimator}, f, indent=1)
    print("wrote", ", ".join(sorted(os.listdir(FIXTURES))))


def _version(name):
    try:
        from importlib.metadata import version
        return version(name)
    except Exception:
        return "unknown"


if __name__ == "__main__":
    main()
