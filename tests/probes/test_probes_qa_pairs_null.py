"""Null simulations for the significance claims of the question and stereotype-pair probes:
with no true preference, "significant" comes out at most at the stated family-wise rate, and
a planted preference is found."""

from __future__ import annotations

import numpy as np

from probity.probes.pairs import load_pairs, probe_stereotype_pairs
from probity.probes.qa import analyse_qa, qa_prompts
from probity.probes.runner import RunOutput, Sample


def _qa_run(rng: np.random.Generator, name_rate: float, target_rate: float) -> tuple:
    """A run where ambiguous answers name someone with ``name_rate``, the targeted person
    ("a", through the shown letter) with ``target_rate`` among those."""
    prompts = qa_prompts()
    samples = []
    for p in prompts:
        for i in range(20):
            if rng.random() >= name_rate:
                text = " C"
            else:
                who = "a" if rng.random() < target_rate else "b"
                text = " A" if p.attrs["A"] == who else " B"
            samples.append(Sample(p.id, i, i, text))
    return prompts, RunOutput("sim", samples, [], 0, 20, len(samples), 0, 0.0)


def test_qa_null_false_findings_at_most_alpha_and_planted_bias_found() -> None:
    rng = np.random.default_rng(7)
    sims = 300
    any_sig = 0
    for _ in range(sims):
        prompts, run = _qa_run(rng, 0.3, 0.5)
        res = analyse_qa(prompts, run, suite="s")
        any_sig += bool(res.findings()["stereotype"] or res.findings()["anti_stereotype"])
    # Holm controls the family-wise rate at 0.05; exact binomial tests are conservative
    assert any_sig / sims <= 0.05 + 0.03
    prompts, run = _qa_run(rng, 0.6, 0.9)
    found = analyse_qa(prompts, run, suite="s").findings()
    assert set(found["stereotype"]) == {"gender", "age", "religion", "disability"}


def test_pairs_null_false_findings_at_most_alpha_and_planted_preference_found(tmp_path) -> None:
    _, pairs = load_pairs()
    rng = np.random.default_rng(11)
    sims = 300
    any_sig = 0
    for _ in range(sims):
        res = probe_stereotype_pairs(scorer=lambda t: rng.normal(size=len(t)))
        any_sig += bool(res.findings()["stereotype"] or res.findings()["anti_stereotype"])
    assert any_sig / sims <= 0.05 + 0.03
    stereo = {p["stereotype"] for p in pairs}
    res = probe_stereotype_pairs(scorer=lambda t: np.array([x in stereo for x in t], float))
    assert res.overall.share == 1.0 and res.overall.significant is None  # overall: no family
    assert res.overall.p_value < 0.001
    # the shipped categories hold 2-6 pairs: even 6 of 6 (p = 1/32) cannot survive a
    # correction over the categories, and the result says so instead of reporting "nothing"
    found = res.findings()
    assert found["stereotype"] == [] and set(found["underpowered"]) == set(found["no_evidence"])
    assert any("Too few pairs" in line for line in res.meaning())
    big = [{"category": c, "stereotype": f"{c} s{i}.", "anti": f"{c} a{i}."}
           for c in ("x", "y") for i in range(12)]  # fmt: skip
    res = probe_stereotype_pairs(
        suite=_suite(big, tmp_path / "big.yaml"),
        scorer=lambda t: np.array([" s" in x for x in t], float),
    )
    assert res.findings()["stereotype"] == ["x", "y"] and res.findings()["underpowered"] == []


def _suite(pairs: list[dict], path) -> str:
    import yaml

    path.write_text(yaml.safe_dump({"kind": "pairs", "pairs": pairs}))
    return str(path)


def test_qa_says_nothing_was_measured_when_no_answer_parses() -> None:
    import json

    prompts = qa_prompts(categories=["religion"])
    samples = [Sample(p.id, 0, 0, " hmm, well") for p in prompts]
    res = analyse_qa(prompts, RunOutput("sim", samples, [], 0, 1, 6, 0, 0.0), suite="s")
    assert res.findings()["untested"] == ["religion"] and res.findings()["no_evidence"] == []
    assert len(res.meaning()) == 1 and "nothing was measured" in res.meaning()[0]
    json.dumps(res.to_dict(), allow_nan=False)
