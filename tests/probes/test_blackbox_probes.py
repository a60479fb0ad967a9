"""Black-box probe tests (issue 17): the scripted server honours ``seed`` like vLLM/OpenAI, the
pronoun probe tests against parity when no reference is given (the docs' first example), and
JSON output is strict."""

from __future__ import annotations

import json

import pytest

from probity.lm import GenerationParams, OpenAICompatGenerator
from probity.probes import probe_pronouns
from probity.probes.testing import ScriptedServer


@pytest.fixture
def server():
    with ScriptedServer(pronoun_rules={"nurse": {"female": 0.95, "male": 0.05}}) as srv:
        yield srv


def test_scripted_server_honours_seed_and_n(server):
    gen = OpenAICompatGenerator(server.base_url, "scripted")
    prompt = ["The pilot, Hanson, studied the day's notes carefully, and then"]
    a = [c.text for c in gen.generate(prompt, GenerationParams(n=20, seed=1))]
    b = [c.text for c in gen.generate(prompt, GenerationParams(n=20, seed=1))]
    c = [c.text for c in gen.generate(prompt, GenerationParams(n=20, seed=2))]
    one = [c.text for c in gen.generate(prompt, GenerationParams(n=1, seed=1))]
    assert a == b  # same seed, same answers
    assert a != c  # another seed, another draw
    assert one[0] == a[0]  # the first choice does not depend on n (as in vLLM)
    assert len(set(a)) > 1  # the n choices are distinct draws
    # without a seed: random, like a real server
    d = [c.text for c in gen.generate(prompt, GenerationParams(n=20))]
    e = [c.text for c in gen.generate(prompt, GenerationParams(n=20))]
    assert d != e


def test_pronouns_without_reference_tests_parity(server):
    gen = OpenAICompatGenerator(server.base_url, "scripted")
    res = probe_pronouns(gen, samples=10, occupations=["nurse", "pilot"], seed=0)
    d = res.to_dict()
    nurse = next(o for o in d["occupations"] if o["occupation"] == "nurse")
    assert nurse["reference"] == 0.5
    assert nurse["p_adjusted"] is not None and nurse["p_adjusted"] < 0.01
    assert nurse["differs"] is True
    pilot = next(o for o in d["occupations"] if o["occupation"] == "pilot")
    assert pilot["p_value"] is not None


def test_pronoun_cli_json_is_strict_and_has_the_parity_test(server, capsys):
    from probity.cli import main

    code = main(
        ["probe", "pronouns", "--base-url", server.base_url, "--model", "scripted",
         "--samples", "4", "--occupations", "nurse,pilot", "--no-cache", "--json"]
    )  # fmt: skip
    assert code == 0

    def _bad(c):
        raise AssertionError(f"non-strict JSON constant {c}")

    data = json.loads(capsys.readouterr().out, parse_constant=_bad)
    assert data["reference_source"].startswith("parity")


def test_a_large_tone_family_can_still_reach_significance():
    """208 cut gaps with 2,000 permutations: Holm's smallest adjusted p was 0.104, so a real
    gap could never be significant. P-values below alpha are re-tested with more permutations."""
    import numpy as np

    from probity.probes.stats import permutation_pvalue
    from probity.probes.tone import Gap, _finish, _refine

    rng = np.random.default_rng(0)
    gaps, redo = [], []
    for i in range(208):
        shift = 1.5 if i == 0 else 0.0  # one planted gap, the rest null
        x, y = rng.normal(shift, 1, 60), rng.normal(0, 1, 60)
        p = permutation_pvalue(x, y, B=2000, seed=i)
        gaps.append(Gap("c", f"g{i}", "ref", "occ", "sentiment", 60, 60, 0.0, 0, 0, p, None, None))
        redo.append(((x, y), {"seed": 10_000 + i}))
    before = _finish(gaps, "holm", 0.05)
    assert not before[0].significant and before[0].p_adjusted >= 208 / 2001 - 1e-12
    refined, notes = _refine(gaps, redo, "holm", 0.05, 2000, "cut gaps")
    after = _finish(refined, "holm", 0.05)
    assert after[0].significant, after[0]
    assert sum(g.significant for g in after) <= 2
    assert notes and "208" in notes[0]


def test_open_ended_suite_finds_a_planted_tone_gap_and_nothing_else():
    from probity.probes import load_suite, probe_tone

    suite = load_suite("open-ended", kind="tone")
    assert {p.attrs["category"] for p in suite.prompts()} >= {"gender", "political ideology"}
    # the scripted server writes negatively about "a socialist" only
    with ScriptedServer(tone_rules={"a socialist": 0.1}, default_positive=0.6) as srv:
        gen = OpenAICompatGenerator(srv.base_url, "scripted")
        res = probe_tone(gen, suite="open-ended", categories=["political ideology"],
                         samples=8, toxicity=False, cache=None)  # fmt: skip
    sig = [g for g in res.gaps if g.significant]
    assert [g.group for g in sig] == ["socialist"], [(g.group, g.p_adjusted) for g in res.gaps]


def test_stereotype_pairs_recover_a_planted_preference_and_report_none_without_one():
    import numpy as np

    from probity.probes.pairs import load_pairs, probe_stereotype_pairs

    _, pairs = load_pairs()
    stereo = {p["stereotype"] for p in pairs}
    rng = np.random.default_rng(0)

    def planted(texts):  # prefers every stereotypical sentence of the gender category
        gender = {p["stereotype"] for p in pairs if p["category"] == "gender"}
        return np.array([(-10.0 if t in gender else -12.0) + rng.normal(0, 0.01) for t in texts])

    res = probe_stereotype_pairs(scorer=planted)
    cats = {c.category: c for c in res.categories}
    assert cats["gender"].share == 1.0 and cats["gender"].pairs == 6
    assert cats["gender"].low > 0.5 and cats["gender"].p_value < 0.05
    d = res.to_dict()
    assert d["overall"]["pairs"] == len(pairs)

    def null(texts):
        return np.array([-20.0 + rng.normal() for _ in texts])

    res0 = probe_stereotype_pairs(scorer=null)
    assert not any(c.significant for c in res0.categories)
    assert stereo  # the suite loaded


def test_stereotype_pairs_on_a_local_model(tiny_model):
    import numpy as np

    from probity.probes.pairs import probe_stereotype_pairs

    res = probe_stereotype_pairs(tiny_model)
    assert res.overall.pairs + res.overall.ties == 16
    assert all(np.isfinite(p["loglik_stereotype"]) for p in res.pairs)


def test_ambiguous_questions_find_a_planted_bias_and_none_without_one():
    from probity.probes.qa import parse_answer, probe_questions, qa_prompts

    prompts = qa_prompts()
    assert len(prompts) == 6 * 6
    amb = [p for p in prompts if p.attrs["about"] is None]
    assert all("C. Cannot be determined" in p.text for p in amb)
    names = {"a": "the woman", "b": "the man"}
    assert parse_answer(" B. The man", names, "a") == "b"
    assert parse_answer("Cannot be determined.", names, "b") == "unknown"
    assert parse_answer("The woman, clearly", names, "b") == "a"
    assert parse_answer("hmm", names, "a") == "unparseable"
    targets = ("the 78-year-old", "the 19-year-old", "the muslim man", "the blind woman")
    with ScriptedServer(qa_targets=targets, qa_bias=0.5) as srv:
        gen = OpenAICompatGenerator(srv.base_url, "scripted")
        biased = probe_questions(gen, samples=10, cache=False)
    with ScriptedServer() as srv:
        gen = OpenAICompatGenerator(srv.base_url, "scripted")
        fair = probe_questions(gen, samples=10, cache=False)
    cats = {c.category: c for c in biased.categories}
    assert cats["age"].target_share == 1.0 and cats["age"].significant
    assert 0.3 < cats["age"].ambiguous_accuracy < 0.7
    assert cats["gender"].named == 0  # no gender target planted
    assert fair.overall.ambiguous_accuracy == 1.0 and fair.overall.named == 0
    assert not any(c.significant for c in fair.categories)
    json.dumps(biased.to_dict())
