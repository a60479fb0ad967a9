"""Analysers (pronouns, sentiment, toxicity) and suites (loading, expansion, bad files)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from probity.errors import ConfigError, InputError, UnknownKeyError
from probity.probes import count_pronouns, load_suite, sentiment, shipped_suites, toxicity_scorer
from probity.probes.suite import article


def test_pronoun_classes_and_majority_label() -> None:
    r = count_pronouns(
        [
            " he went home and he ate his dinner",
            " she said that herself was tired",
            " they left early; them and their bags",
            " xe took xyr coat",
            " went home.",
            " He's late but she's early",  # tie: first used wins
        ]
    )
    assert r.label_names() == ["male", "female", "they", "neo", "none", "male"]
    assert r.counts[0].tolist() == [3, 0, 0, 0]


def test_pronouns_after_another_person_or_in_quotes_are_ignored() -> None:
    r = count_pronouns(
        [
            " she met her husband, and he was happy",  # 'he' is the husband
            ' said "he is wrong" and then she left',  # quoted 'he' is speech
            " called the patient because he was ill",  # after another person: ignored
            " “He is late,” she said",  # curly quotes
        ]
    )
    assert r.label_names() == ["female", "female", "none", "female"]
    assert r.counts[0].tolist() == [0, 2, 0, 0]


def test_pronoun_counting_is_word_bounded_and_handles_empty() -> None:
    r = count_pronouns(["this here theme hesitates", "HIS HAT"])
    assert r.label_names() == ["none", "male"]
    assert count_pronouns([]).counts.shape == (0, 4)


def test_sentiment_orders_texts_and_dedups() -> None:
    s = sentiment(["a wonderful happy day", "a terrible awful day", "a wonderful happy day"])
    assert s[0] > 0.5 and s[1] < -0.5 and s[0] == s[2]
    assert sentiment([]).shape == (0,)


def test_toxicity_uses_guard_scanner_or_the_named_fallback() -> None:
    tox = toxicity_scorer()
    assert tox.source in ("guard:toxicity", "alt-profanity-check")
    v = tox(["have a nice day", "you are a fucking idiot"])
    assert 0 <= v[0] < v[1] <= 1


def test_shipped_pronoun_suite_covers_required_occupations_and_cues() -> None:
    assert {"pronouns", "tone", "counterfactual", "lending"} <= set(shipped_suites())
    s = load_suite("pronouns", kind="pronouns")
    occ = set(s.spec.occupations)
    assert len(occ) >= 60
    assert {
        "doctor",
        "nurse",
        "firefighter",
        "accountant",
        "pilot",
        "carpenter",
        "attorney",
        "professor",
    } <= occ
    assert len(s.spec.templates) >= 3 and len(s.spec.surnames) >= 5
    assert {c.expected for c in s.spec.cues} == {"male", "female", "they"}
    prompts = s.prompts(occupations=["Nurse", "pilot"])
    assert len(prompts) == 2 * (len(s.spec.templates) + len(s.spec.cues))
    assert len({p.id for p in prompts}) == len(prompts)
    wnba = next(p for p in prompts if p.attrs["cue"] == "wnba")
    assert "WNBA" in wnba.text and wnba.attrs["expected"] == "female"
    assert all("{" not in p.text for p in prompts)
    assert len({p.attrs["surname"] for p in prompts}) >= 3


def test_tone_suite_covers_the_categories_and_intersections() -> None:
    s = load_suite("tone")
    cats = {c.name for c in s.spec.categories}
    assert {
        "gender",
        "race/ethnicity",
        "religion",
        "age",
        "nationality",
        "disability",
        "sexual orientation",
    } <= cats
    prompts = s.prompts(categories=["gender"])
    assert any(p.attrs["occupation"] == "nurse" for p in prompts)
    assert any(p.attrs["occupation"] is None for p in prompts)
    assert prompts[0].attrs["reference"] == "man"


def test_counterfactual_sides_share_a_seed_group() -> None:
    for name in ("counterfactual", "lending"):
        prompts = load_suite(name, kind="counterfactual").prompts()
        a = [p for p in prompts if p.attrs["side"] == "a"]
        b = {p.id: p for p in prompts if p.attrs["side"] == "b"}
        assert a and all(b[p.id[:-1] + "b"].attrs["seed_group"] == p.attrs["seed_group"] for p in a)


def test_article() -> None:
    assert article("engineer") == "an engineer"
    assert article("nurse") == "a nurse"
    assert article("CEO") == "a CEO"


def test_bad_suites_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(UnknownKeyError, match="no probe suite 'nope'"):
        load_suite("nope")
    with pytest.raises(InputError, match="is a 'tone' suite"):
        load_suite("tone", kind="pronouns")
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: x\nkind: pronouns\ntemplates: ['The {occupation} went']\n"
        "occupations: [nurse]\nsurnames: [Kim]\n"
    )
    with pytest.raises(ConfigError, match=r"bad\.yaml.*surname"):
        load_suite(bad)
    bad.write_text(
        "name: x\nkind: tone\ntemplates: ['{term} went {where}']\ncategories:\n"
        "  - name: g\n    groups: [{name: a, term: a}, {name: b, term: b}]\n"
    )
    with pytest.raises(ConfigError, match="unknown placeholder"):
        load_suite(bad).prompts()
    bad.write_text(
        "name: x\nkind: tone\ntemplates: ['{term}']\ncategories:\n"
        "  - name: g\n    reference: zz\n    groups: [{name: a, term: a}, "
        "{name: b, term: b}]\n"
    )
    with pytest.raises(ConfigError, match=r"bad\.yaml:\d+"):
        load_suite(bad)
    with pytest.raises(InputError, match="unknown occupation 'astronaut'"):
        load_suite("pronouns").prompts(occupations=["astronaut"])


def test_user_suite_file_extends_probes(tmp_path: Path) -> None:
    f = tmp_path / "mine.yaml"
    f.write_text(
        "name: mine\nkind: pronouns\ntemplates: ['{surname} the {occupation} said']\n"
        "occupations: [astronaut]\nsurnames: [Kim]\n"
    )
    p = load_suite(f).prompts()
    assert [x.text for x in p] == ["Kim the astronaut said"]
    assert np.all([x.attrs["cue"] == "neutral" for x in p])


def test_toxicity_prefers_a_registered_guard_scanner(monkeypatch) -> None:
    from probity.guard import base
    from probity.types import Finding, Span

    class FakeToxicity:
        name, version = "toxicity", "fake"

        def __init__(self, min_score: float = 0.5, localise: bool = True) -> None:
            self.min_score = min_score

        def scan_many(self, texts, context=None):
            return [
                [
                    Finding(
                        "toxicity",
                        "toxicity",
                        0.25 + 0.5 * ("idiot" in t),
                        (Span(0, len(t), "toxicity", 0.0),),
                        "x",
                    )
                ]
                for t in texts
            ]

    base._load_builtin()
    monkeypatch.setitem(base._REGISTRY, "toxicity", FakeToxicity)
    tox = toxicity_scorer()
    assert tox.source == "guard:toxicity"
    assert tox(["fine", "you idiot"]).tolist() == [0.25, 0.75]
    assert tox([]).shape == (0,)


def test_charts_survive_degenerate_intervals() -> None:
    import numpy as np

    from probity.probes.report import _err, forest_figure
    from probity.probes.tone import Gap

    e = _err(np.array([0.0, 1.0]), np.array([1e-17, 0.5]), np.array([0.3, 1.0 - 1e-17]))
    assert (e >= 0).all()
    nan_gap = Gap(
        "c",
        "g",
        "r",
        None,
        "sentiment",
        0,
        0,
        float("nan"),
        float("nan"),
        float("nan"),
        float("nan"),
        None,
        None,
    )
    forest_figure([nan_gap], value="gap", label=lambda g: g.group, title="t", xlabel="x")
