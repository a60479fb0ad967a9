"""Black-box focus-group tests (issue 17) against a fake that honours ``seed`` and ``n`` the way
vLLM and OpenAI do: the same prompt with the same seed gives the same answer, choices of one
request are independent draws, and a request without a seed is random."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest
from scipy import stats
from test_focus_group import STUDY as BIKES

from probity.focus import load_study, run_study
from probity.lm import GenerationParams, OpenAICompatGenerator
from probity.probes.testing import ScriptedServer

PLANTED = {"22": 0.85, "38": 0.5, "67": 0.15}


def SeededServer(share: dict[str, float], chat_only: bool = False) -> ScriptedServer:
    """The project's scripted server in focus-group mode: honours seed and n like vLLM."""
    rules = {f"{age}-year-old": p for age, p in share.items()}
    return ScriptedServer(
        preferred="Swift", other="Steady", preference_rules=rules, chat_only=chat_only
    ).start()


@pytest.fixture
def planted():
    srv = SeededServer(PLANTED)
    yield srv
    srv.stop()


# the same study as the white-box tests, 40 answers per persona
STUDY = BIKES.replace("samples: 60", "samples: 40")


def test_the_fake_honours_seed_like_vllm(planted):
    gen = OpenAICompatGenerator(planted.base_url, "m")
    prompt = ["a 38-year-old man. Option 1: Swift. Option 2: Steady. Which?"]
    a = gen.generate(prompt, GenerationParams(n=30, seed=5))
    b = gen.generate(prompt, GenerationParams(n=30, seed=5))
    c = gen.generate(prompt, GenerationParams(n=1, seed=5))
    assert [x.text for x in a] == [x.text for x in b]
    assert a[0].text == c[0].text
    assert len({x.text for x in a}) == 2  # the n choices are independent draws


def _study(tmp_path, text=STUDY):
    (tmp_path / "s.yaml").write_text(text)
    return load_study(tmp_path / "s.yaml")


def test_planted_shares_are_recovered_with_per_sample_seeds(tmp_path, planted):
    cfg = _study(tmp_path)
    res = run_study(cfg, OpenAICompatGenerator(planted.base_url, "m", concurrency=4))
    for row in res.by_factor["age"]:
        assert row["ci_low"] <= PLANTED[row["level"]] <= row["ci_high"], row
    assert res.association["age"]["p_value"] < 1e-6
    answers = res.to_dict(include_answers=True)["answers"]
    seeds = [a["seed"] for a in answers]
    assert all(isinstance(s, int) for s in seeds)
    by_persona: dict[str, set] = {}
    for a in answers:
        by_persona.setdefault(json.dumps(a["persona"], sort_keys=True), set()).add(a["seed"])
    assert all(len(s) == cfg.samples for s in by_persona.values())


def test_rerun_with_the_same_seed_gives_the_same_answers(tmp_path, planted):
    cfg = _study(tmp_path, STUDY.replace("samples: 40", "samples: 5"))
    gen = OpenAICompatGenerator(planted.base_url, "m")
    a = run_study(cfg, gen).to_dict(include_answers=True)["answers"]
    b = run_study(cfg, gen).to_dict(include_answers=True)["answers"]
    assert [x["text"] for x in a] == [x["text"] for x in b]


def test_null_study_finds_nothing_at_alpha(tmp_path):
    srv = SeededServer({"22": 0.5, "38": 0.5, "67": 0.5})
    try:
        gen = OpenAICompatGenerator(srv.base_url, "m", concurrency=4)
        sig = Counter()
        n_studies = 20
        for k in range(n_studies):
            cfg = _study(tmp_path, STUDY.replace("seed: 3", f"seed: {100 + k}").replace("40", "20"))
            res = run_study(cfg, gen)
            for f in ("age", "gender"):
                sig[f] += res.association[f]["p_value"] < 0.05
    finally:
        srv.stop()
    limit = int(stats.binom.ppf(0.999, n_studies, 0.05))
    assert sig["age"] <= limit and sig["gender"] <= limit, sig


def test_joint_logistic_model_has_intervals(tmp_path, planted):
    cfg = _study(tmp_path)
    res = run_study(cfg, OpenAICompatGenerator(planted.base_url, "m"))
    joint = res.to_dict()["joint_model"]
    terms = {t["term"]: t for t in joint["terms"]}
    old = next(t for name, t in terms.items() if "67" in name)
    assert old["coef"] < 0 and old["ci_high"] < 0  # 67-year-olds prefer Swift less than 22
    gender = next(t for name, t in terms.items() if "gender" in name)
    assert gender["ci_low"] < 0 < gender["ci_high"] or gender["p_value"] > 0.001
    assert np.isfinite([t["coef"] for t in joint["terms"]]).all()


def test_cli_chat_seed_concurrency_on_a_chat_only_endpoint(tmp_path, capsys):
    from probity.cli import main

    srv = SeededServer(PLANTED, chat_only=True)
    (tmp_path / "s.yaml").write_text(STUDY.replace("samples: 40", "samples: 10"))
    try:
        args = ["focus-group", "--study", str(tmp_path / "s.yaml"), "--base-url",
                srv.base_url, "--model", "m", "--chat", "--seed", "11", "--concurrency", "3",
                "--json", "--answers"]  # fmt: skip
        code = main(args)
    finally:
        srv.stop()
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["counts"]["decided"] == 60
    assert srv.requests >= 60  # every sample its own request, all on the chat endpoint
    assert data["seed"] == 11


def test_cli_bad_study_is_one_line_error(tmp_path, capsys):
    from probity.cli import main

    (tmp_path / "s.yaml").write_text("name: x\nfactors: {}\n")
    code = main(["focus-group", "--study", str(tmp_path / "s.yaml"), "--json"])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err and err[-1].startswith("error:")


@pytest.mark.parametrize("answer", ["likert", "open"])
def test_likert_and_open_answers(tmp_path, planted, answer, capsys):
    from probity.cli import main

    (tmp_path / "s.yaml").write_text(STUDY.replace("samples: 40", f"samples: 20\nanswer: {answer}"))
    cfg = load_study(tmp_path / "s.yaml")
    res = run_study(cfg, OpenAICompatGenerator(planted.base_url, "m", concurrency=4))
    assert res.counts["rated"] == 120 and res.counts["unparseable"] == 0
    rows = {r["level"]: r for r in res.by_factor["age"]}
    if answer == "likert":  # toward Swift: 4.5 when preferred, 1.5 when not
        for lv, share in PLANTED.items():
            truth = 4.5 * share + 1.5 * (1 - share)
            assert rows[lv]["ci_low"] <= truth <= rows[lv]["ci_high"], rows[lv]
    else:
        assert rows["22"]["mean"] > 0.3 > -0.3 > rows["67"]["mean"]
    assert res.association["age"]["p_value"] < 1e-6
    assert res.association["gender"]["p_value"] > 0.001
    terms = {t["term"]: t for t in res.joint_model["terms"]}
    assert terms["age=67"]["ci_high"] < 0
    code = main(
        ["focus-group", "--study", str(tmp_path / "s.yaml"), "--base-url", planted.base_url,
         "--model", "m", "--report", str(tmp_path / "r.html")]
    )  # fmt: skip
    assert code == 0
    assert "Kruskal-Wallis" in capsys.readouterr().out
    assert "Joint model" in (tmp_path / "r.html").read_text()


@pytest.mark.parametrize(
    ("text", "rating"),
    [("4. It suits me.", 4), ("I'd say 2.", 2), ("5 - strongly.", 5), ("3,5", 3),
     ("About 4.5 maybe", None), ("No idea.", None), ("60% sure", None)],
)  # fmt: skip
def test_parse_likert(text, rating):
    from probity.focus.parse import parse_likert

    assert parse_likert(text) == rating
