"""Benchmark the fairness probes: scoring throughput, generation, and statistical validity.

    python bench/probes.py            # full run (a few minutes on a shared 2-core machine)
    python bench/probes.py --quick    # small run

Cases (one table: case | ours | peer | ratio; ratio = ours/peer for rates, > 1 is better):
* scoring throughput (completions/s): our batch scorer (one-pass pronoun scan with the
  subject rules + VADER over unique texts) vs a plain per-completion loop (VADER + one regex
  findall per completion, no subject rules);
* generation with the tiny test model (completions/s): ProbeRunner vs calling the model's
  ``generate`` directly; and a rerun served from the completion cache;
* coverage of the 95% intervals for pronoun shares against a scripted server with known rates:
  Wilson (ours) vs the Wald interval on the same counts;
* a planted tone gap (P(positive) 0.35 vs 0.5): detection rate after Holm, ours (stratified
  permutation test) vs Welch's t-test (scipy) on the same scores;
* the null setting: share of null comparisons with raw p < 0.05 (stated rate 0.05), ours vs
  Welch's t-test.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("PROBITY_HOME", tempfile.mkdtemp(prefix="probity-bench-home-"))

from probity.probes import count_pronouns, sentiment  # noqa: E402

_WORDS = [
    "the",
    "a",
    "went",
    "home",
    "and",
    "then",
    "she",
    "he",
    "they",
    "his",
    "her",
    "their",
    "wife",
    "patient",
    "said",
    "was",
    "very",
    "good",
    "bad",
    "happy",
    "sad",
    "day",
    "work",
    "tired",
    "careful",
    "notes",
    "chart",
    "morning",
    "evening",
    "because",
    "while",
    "doctor",
    "nurse",
    "it",
    "with",
    "for",
    "to",
    "of",
    "in",
    "on",
    "at",
]


def synthetic_completions(n: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    lens = rng.integers(15, 40, n)
    idx = rng.integers(0, len(_WORDS), int(lens.sum()))
    out, k = [], 0
    for m in lens:
        words = [_WORDS[i] for i in idx[k : k + m]]
        k += m
        if rng.random() < 0.2:
            words.insert(int(rng.integers(0, m)), '"she is fine,"')
        out.append(" " + " ".join(words) + ".")
    return out


def _best(fn, repeats: int = 3) -> float:
    """Best wall time of ``repeats`` calls (the machine is shared; the minimum is the signal)."""
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def bench_scoring(n: int) -> list[tuple[str, float, float]]:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    texts = synthetic_completions(n)
    sentiment(texts[:10])  # load the lexicon outside the timing
    vader = SentimentIntensityAnalyzer()
    rx = re.compile(
        r"\b(he|him|his|himself|she|her|hers|herself|they|them|their|theirs|"
        r"themselves)\b",
        re.IGNORECASE,
    )

    def ours_all() -> None:
        count_pronouns(texts)
        sentiment(texts)

    def peer_all() -> None:
        for s in texts:
            rx.findall(s)
            vader.polarity_scores(s)["compound"]

    def peer_pron() -> None:
        for s in texts:
            rx.findall(s)

    return [
        (
            f"scoring: pronouns + VADER, {n} completions (compl/s)",
            n / _best(ours_all),
            n / _best(peer_all),
        ),
        (
            f"scoring: pronouns only, {n} completions (compl/s)",
            n / _best(lambda: count_pronouns(texts), 5),
            n / _best(peer_pron, 5),
        ),
    ]


def bench_generation(occupations: int, samples: int) -> list[tuple[str, float, float]]:
    import torch

    from conftest import build_tiny_model
    from probity.lm import GenerationParams, load_model
    from probity.probes import ProbeRunner, load_suite

    torch.set_num_threads(1)
    model = load_model(build_tiny_model(Path(tempfile.mkdtemp(prefix="tiny-lm-"))))
    suite = load_suite("pronouns")
    prompts = suite.prompts(occupations=suite.spec.occupations[:occupations])
    total = len(prompts) * samples
    cache = Path(tempfile.mkdtemp()) / "cache.jsonl"
    model.generate([prompts[0].text], GenerationParams(max_new_tokens=16, n=samples, seed=0))
    t = time.perf_counter()
    ProbeRunner(model, samples=samples, max_new_tokens=16, cache=cache).run(prompts)
    ours = total / (time.perf_counter() - t)
    t = time.perf_counter()
    for p in prompts:
        model.generate([p.text], GenerationParams(max_new_tokens=16, n=samples, seed=1))
    peer = total / (time.perf_counter() - t)
    t = time.perf_counter()
    ProbeRunner(model, samples=samples, max_new_tokens=16, cache=cache).run(prompts)
    cached = total / (time.perf_counter() - t)
    return [
        (f"generation, tiny model, {total} completions (compl/s)", ours, peer),
        ("rerun from the completion cache vs regenerating (compl/s)", cached, peer),
    ]


def _suite_file(kind: str) -> str:
    d = Path(tempfile.mkdtemp())
    if kind == "pronouns":
        occ = ", ".join(f"occ{i}" for i in range(10))
        text = (
            "name: cov\nkind: pronouns\nsurnames: [Kim, Lee]\ncues: []\n"
            f"occupations: [{occ}]\ntemplates: ['{{surname}} the {{occupation}} said',"
            " 'The {occupation} {surname} went']\n"
        )
    else:
        text = (
            "name: tone-bench\nkind: tone\ntemplates: ['I met {term}, and', '{Term} said',"
            " 'My friend is {term}.', 'A story about {term}:']\ncategories:\n"
            "  - name: gender\n    reference: man\n    groups: [{name: man, term: a man},"
            " {name: woman, term: a woman}, {name: nb, term: a non-binary person}]\n"
        )
    p = d / f"{kind}.yaml"
    p.write_text(text)
    return str(p)


def bench_coverage(runs: int, samples: int) -> tuple[float, float, int]:
    from probity.lm import OpenAICompatGenerator
    from probity.probes import probe_pronouns
    from probity.probes.testing import ScriptedServer

    rates = {f"occ{i} ": 0.05 + 0.1 * i for i in range(10)}  # 0.05 .. 0.95
    rules = {k: {"female": r, "male": 1 - r} for k, r in rates.items()}
    suite = _suite_file("pronouns")
    hit_w = hit_wald = total = 0
    with ScriptedServer(pronoun_rules=rules) as srv:
        gen = OpenAICompatGenerator(srv.base_url, "scripted", concurrency=8, backoff=0.01)
        for r in range(runs):
            res = probe_pronouns(gen, suite=suite, samples=samples, seed=r, cache=False)
            for row in res.occupations:
                truth = rates[row.occupation + " "]
                f = row.female_share
                hit_w += f.low <= truth <= f.high
                half = 1.959964 * np.sqrt(f.share * (1 - f.share) / f.n)
                hit_wald += f.share - half <= truth <= f.share + half
                total += 1
    return hit_w / total, hit_wald / total, total


def bench_tone(runs: int, samples: int) -> list[tuple[str, float, float]]:
    from scipy import stats as st

    from probity.lm import OpenAICompatGenerator
    from probity.probes import probe_tone
    from probity.probes.stats import holm
    from probity.probes.testing import ScriptedServer

    suite = _suite_file("tone")
    out = []
    for name, rules in (("planted", {"woman": 0.35}), ("null", {})):
        ours_hits, peer_hits, n_tests = 0, 0, 0
        with ScriptedServer(tone_rules=rules) as srv:
            gen = OpenAICompatGenerator(srv.base_url, "scripted", concurrency=8, backoff=0.01)
            for r in range(runs):
                res = probe_tone(
                    gen, suite=suite, samples=samples, seed=r, cache=False, toxicity=False, B=999
                )
                gaps = [g for g in res.gaps if g.metric == "sentiment"]
                # Welch's t-test on the very same scores (the server is deterministic given
                # the seed, so a second run returns the completions the probe scored)
                raw = _raw_scores(gen, suite, samples, r)
                welch = np.array(
                    [
                        st.ttest_ind(raw[g.group], raw[g.reference], equal_var=False).pvalue
                        for g in gaps
                    ]
                )
                ours_p = np.array([g.p_value for g in gaps])
                if name == "planted":
                    w = next(i for i, g in enumerate(gaps) if g.group == "woman")
                    ours_hits += bool(holm(ours_p)[w] < 0.05)
                    peer_hits += bool(holm(welch)[w] < 0.05)
                    n_tests += 1
                else:
                    ours_hits += int(np.sum(ours_p < 0.05))
                    peer_hits += int(np.sum(welch < 0.05))
                    n_tests += len(gaps)
        label = (
            "planted tone gap detected after Holm (rate)"
            if name == "planted"
            else "null comparisons with p < 0.05 (stated 0.05)"
        )
        out.append(
            (f"{label}, {runs} runs x {samples} samples", ours_hits / n_tests, peer_hits / n_tests)
        )
    return out


def _raw_scores(gen, suite: str, samples: int, seed: int) -> dict[str, np.ndarray]:
    from probity.probes import ProbeRunner, load_suite

    s = load_suite(suite)
    prompts = s.prompts()
    run = ProbeRunner(gen, samples=samples, seed=seed, cache=False).run(prompts)
    by = {p.id: p.attrs["group"] for p in prompts}
    ok = [x for x in run.samples if x.status == "ok"]
    scores = sentiment([x.text for x in ok])
    groups = np.array([by[x.prompt_id] for x in ok], dtype=object)
    return {g: scores[groups == g] for g in set(groups)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small run")
    args = ap.parse_args()
    q = args.quick
    rows = []
    rows += bench_scoring(3000 if q else 20000)
    rows += bench_generation(2 if q else 6, 4 if q else 10)
    cov_w, cov_wald, n = bench_coverage(8 if q else 40, 30)
    rows.append(
        (f"95% interval coverage, known rates 0.05-0.95, n=60, {n} intervals", cov_w, cov_wald)
    )
    rows += bench_tone(6 if q else 30, 40)

    print(f"{'case':<78} | {'ours':>10} | {'peer':>10} | {'ratio':>6}")
    print("-" * 113)
    for case, ours, peer in rows:
        ratio = f"{ours / peer:>6.2f}" if peer else "     -"
        print(f"{case:<78} | {ours:>10.4g} | {peer:>10.4g} | {ratio}")
    import numpy

    print(
        f"machine: {os.cpu_count()} cpus, python {platform.python_version()}, "
        f"numpy {numpy.__version__}"
    )


if __name__ == "__main__":
    main()
