"""Benchmark: are the focus-group statistics valid? Simulated studies with known truth.

Each simulated study has the grid age (3 levels) x gender (2 levels), ``samples`` answers per
persona, option order drawn at random (no position bias), 5% "neither" and 5% unparseable
answers. Preference for product A depends on age only (0.85 / 0.5 / 0.15); gender has no
effect. The answers are written as text in several phrasings, parsed by
:func:`probity.focus.parse_choice` and analysed by :func:`probity.focus.analyse`, exactly as
``probity focus-group`` does after generation. Measured over many studies:

* coverage of the 95% Wilson intervals per age level (nominal 0.95);
* false discoveries of the chi-square test at alpha = 0.05 in a study where nothing matters
  (every persona 0.5: age and gender are true nulls), for gender in the planted study (a true
  null, but age-stratified: the per-gender share has less than binomial variance, so the test
  is conservative there), of the binomial position test, and the test's power for age;
* the exact coverage of the interval for n = 10 and n = 40 (minimum over true rates 0.05 to
  0.95, computed from the binomial distribution: no simulation noise).

Peer: what a typical analysis script does: the Wald interval ``p +- 1.96 sqrt(p(1-p)/n)`` and
``scipy.stats.chi2_contingency`` with its default (Yates-corrected for 2x2 tables). Ratios are
ours/peer for coverage (> 1 better when the peer under-covers); the false-discovery rows are
judged against the nominal 0.05, so they have no ratio.

    python bench/focus_group.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

TRUE = {"22": 0.85, "38": 0.5, "67": 0.15}
PHRASES = {
    "first": ("Option 1. It suits how I live.", "I would pick option one.", "The first one."),
    "second": ("Option 2, because of the range.", "Option two for me.", "The second product."),
    "neither": ("Neither of them suits me.", "No preference, honestly."),
    "junk": ("What a lovely morning.", "Option 1 or Option 2, hard to say."),
}


def wald(k: np.ndarray, n: np.ndarray, z: float = 1.959964) -> tuple[np.ndarray, np.ndarray]:
    p = k / n
    half = z * np.sqrt(p * (1 - p) / n)
    return p - half, p + half


def exact_coverage(n: int, interval) -> float:
    """Minimum over true rates 0.05..0.95 of P(true rate inside the interval), exactly."""
    from scipy.stats import binom

    ks = np.arange(n + 1)
    lo, hi = interval(ks, n)
    worst = 1.0
    for p in np.linspace(0.05, 0.95, 91):
        inside = (lo <= p) & (p <= hi)
        worst = min(worst, float(binom.pmf(ks, n, p)[inside].sum()))
    return worst


def simulate(cfg, rng: np.random.Generator, samples: int, truth: dict[str, float]):
    from probity.focus import parse_choice
    from probity.focus.grid import personas
    from probity.focus.runner import Answer

    a, b = cfg.products[0].name, cfg.products[1].name
    answers = []
    for persona in personas(cfg):
        for s in range(samples):
            first, second = (b, a) if rng.random() < 0.5 else (a, b)
            u = rng.random()
            if u < 0.05:
                kind = "neither"
            elif u < 0.10:
                kind = "junk"
            else:
                wants_a = rng.random() < truth[persona["age"]]
                kind = "first" if (wants_a == (first == a)) else "second"
            text = PHRASES[kind][int(rng.integers(len(PHRASES[kind])))]
            pick = parse_choice(text, first, second)
            choice = first if pick == "first" else second if pick == "second" else pick
            answers.append(Answer(persona, s, first, text, "kept", choice))
    return answers


class StudySeed:
    """Probity 0.1's sampling, for comparison: every request carried the study seed (n=1),
    so on a backend that honours seed all samples of a prompt were one answer."""

    def __init__(self, gen, seed: int) -> None:
        self.gen, self.seed, self.name = gen, seed, gen.name
        self.concurrency = gen.concurrency

    def generate(self, prompts, params):
        from dataclasses import replace

        return self.gen.generate(prompts, replace(params, seed=self.seed))


def served(studies: int, samples: int) -> list[tuple]:
    """End to end: run_study against the scripted server, which honours seed like vLLM."""
    from probity.focus import StudyConfig, run_study
    from probity.lm import OpenAICompatGenerator
    from probity.probes.testing import ScriptedServer

    base = {
        "factors": {"age": list(TRUE), "gender": ["woman", "man"]},
        "persona": "a {age}-year-old {gender}",
        "products": [
            {"name": "Swift", "description": "a light fast e-bike"},
            {"name": "Steady", "description": "a comfortable e-bike"},
        ],
        "samples": samples,
    }
    out = []
    for label, truth in (("planted", TRUE), ("null", dict.fromkeys(TRUE, 0.5))):
        rules = {f"{age}-year-old": p for age, p in truth.items()}
        cover = {"ours": dict.fromkeys(TRUE, 0), "0.1": dict.fromkeys(TRUE, 0)}
        sig = {"ours": {"age": 0, "gender": 0, "joint": 0}, "0.1": {"age": 0, "gender": 0}}
        t0 = time.perf_counter()
        with ScriptedServer(preferred="Swift", other="Steady", preference_rules=rules) as srv:
            gen = OpenAICompatGenerator(srv.base_url, "scripted", concurrency=8)
            for k in range(studies):
                cfg = StudyConfig.model_validate({**base, "seed": 1000 + k})
                for who, g in (("ours", gen), ("0.1", StudySeed(gen, cfg.seed))):
                    res = run_study(cfg, g, concurrency=8)
                    for row in res.by_factor["age"]:
                        t = truth[row["level"]]
                        cover[who][row["level"]] += row["ci_low"] <= t <= row["ci_high"]
                    for f in ("age", "gender"):
                        sig[who][f] += (res.association[f]["p_value"] or 1) < 0.05
                    if who == "ours":
                        terms = res.joint_model["terms"][1:-1]  # factors, not intercept/position
                        sig[who]["joint"] += any(t["p_value"] < 0.05 / len(terms) for t in terms)
        secs = time.perf_counter() - t0
        n_lv = samples * 2
        for lv in TRUE:
            o, p = cover["ours"][lv] / studies, cover["0.1"][lv] / studies
            out.append(
                (
                    f"served, {label}: coverage age {lv} (true {truth[lv]}, n={n_lv})",
                    o,
                    p,
                    o / max(p, 1e-9),
                )
            )
        for f in ("age", "gender") if label == "null" else ("gender",):
            out.append(
                (
                    f"served, {label}: chi-square findings, {f} (true null, alpha 0.05)",
                    sig["ours"][f] / studies,
                    sig["0.1"][f] / studies,
                    float("nan"),
                )
            )
        if label == "null":
            out.append(
                (
                    "served, null: joint model, any factor term (Bonferroni 0.05)",
                    sig["ours"]["joint"] / studies,
                    float("nan"),
                    float("nan"),
                )
            )
        out.append((f"served, {label}: {studies} studies x 2 runs, seconds", secs, nan_, nan_))
    return out


nan_ = float("nan")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--studies", type=int, default=None)
    ap.add_argument("--samples", type=int, default=20, help="answers per persona")
    ap.add_argument(
        "--served-studies",
        type=int,
        default=None,
        help="end-to-end studies against the seed-honouring scripted server (default 200)",
    )
    args = ap.parse_args()
    from scipy.stats import chi2_contingency

    from probity.focus import StudyConfig, analyse, wilson

    studies = args.studies or (300 if args.quick else 2000)
    cfg = StudyConfig.model_validate(
        {
            "factors": {"age": list(TRUE), "gender": ["woman", "man"]},
            "products": [
                {"name": "Swift", "description": "a"},
                {"name": "Steady", "description": "b"},
            ],
            "samples": args.samples,
        }
    )
    rng = np.random.default_rng(0)
    cover_ours = {lv: 0 for lv in TRUE}
    cover_peer = {lv: 0 for lv in TRUE}
    used = {lv: 0 for lv in TRUE}
    fd_gender = fd_gender_peer = fd_position = power_age = power_age_peer = 0
    unparseable_ok = 0
    n_answers = 0
    t_analyse = 0.0
    for _ in range(studies):
        answers = simulate(cfg, rng, args.samples, TRUE)
        n_answers += len(answers)
        t0 = time.perf_counter()
        res = analyse(cfg, answers, model="sim", policy="none")
        t_analyse += time.perf_counter() - t0
        true_junk = sum(x.text in PHRASES["junk"] for x in answers)
        unparseable_ok += res.counts["unparseable"] == true_junk
        for row in res.by_factor["age"]:
            if not row["n"]:
                continue
            used[row["level"]] += 1
            t = TRUE[row["level"]]
            cover_ours[row["level"]] += row["ci_low"] <= t <= row["ci_high"]
            lo, hi = wald(np.array(row["count"]), np.array(row["n"]))
            cover_peer[row["level"]] += bool(lo <= t <= hi)
        fd_gender += res.association["gender"]["p_value"] < 0.05
        power_age += res.association["age"]["p_value"] < 0.05
        fd_position += res.position["p_value"] < 0.05
        tables = {}
        for f in ("gender", "age"):
            rows = res.by_factor[f]
            tables[f] = np.array([[r["count"], r["n"] - r["count"]] for r in rows])
        fd_gender_peer += chi2_contingency(tables["gender"])[1] < 0.05
        power_age_peer += chi2_contingency(tables["age"])[1] < 0.05

    # a study where nothing matters (every persona 0.5): both chi-square tests are true nulls
    null_truth = dict.fromkeys(TRUE, 0.5)
    fd_null = {"age": [0, 0], "gender": [0, 0]}
    for _ in range(studies):
        res = analyse(cfg, simulate(cfg, rng, args.samples, null_truth), model="s", policy="n")
        for f in fd_null:
            rows_f = res.by_factor[f]
            table = np.array([[r["count"], r["n"] - r["count"]] for r in rows_f])
            fd_null[f][0] += res.association[f]["p_value"] < 0.05
            fd_null[f][1] += chi2_contingency(table)[1] < 0.05

    def wilson_vec(ks, n):
        out = np.array([wilson(int(k), int(n)) for k in ks])
        return out[:, 0], out[:, 1]

    rows = []
    per_level = args.samples * 2 * 0.9
    for lv, t in TRUE.items():
        o, p = cover_ours[lv] / used[lv], cover_peer[lv] / used[lv]
        rows.append((f"coverage of 95% CI, age {lv} (true {t}, n~{per_level:.0f})", o, p, o / p))
    for n in (10, 40):
        o, p = exact_coverage(n, wilson_vec), exact_coverage(n, wald)
        rows.append((f"exact coverage, worst rate in 0.05-0.95, n={n}", o, p, o / p))
    nan = float("nan")
    for f, (o, p) in fd_null.items():
        rows.append(
            (
                f"chi-square false discoveries, {f}, null study (alpha 0.05)",
                o / studies,
                p / studies,
                nan,
            )
        )
    rows.append(
        (
            "chi-square false discoveries, gender, age-stratified study",
            fd_gender / studies,
            fd_gender_peer / studies,
            nan,
        )
    )
    rows.append(
        ("position test false discoveries (null, alpha 0.05)", fd_position / studies, nan, nan)
    )
    rows.append(
        (
            "chi-square power, age (0.85/0.5/0.15)",
            power_age / studies,
            power_age_peer / studies,
            (power_age / power_age_peer) if power_age_peer else nan,
        )
    )
    rows.append(("studies with unparseable counted exactly", unparseable_ok / studies, nan, nan))
    rows.append(("analyse() answers/s (after parsing)", n_answers / t_analyse, nan, nan))
    rows += served(args.served_studies or (40 if args.quick else 200), args.samples)
    print(
        f"machine: {os.cpu_count()} cpus, python {platform.python_version()}, "
        f"numpy {np.__version__}; {studies} simulated studies x {len(TRUE) * 2} personas x "
        f"{args.samples} answers"
    )
    print("peer for 'served' rows: Probity 0.1's sampling (the study seed on every request)")
    print(f"{'case':72} {'ours':>10} {'peer':>10} {'ratio':>8}")
    for case, o, p, r in rows:
        print(f"{case:72} {o:10.4g} {p:10.4g} {r:8.3g}")


if __name__ == "__main__":
    main()
