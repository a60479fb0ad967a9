"""End to end against an OpenAI-compatible server started here on 127.0.0.1 with known rates,
failures, timeouts, refusals and short answers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from probity.cli import main
from probity.lm import OpenAICompatGenerator
from probity.probes import (
    ProbeRunner,
    load_suite,
    probe_counterfactual,
    probe_pronouns,
    probe_tone,
)
from probity.probes.testing import ScriptedServer

# first match wins: the cue rules come before the occupation rules
RATES = {
    "WNBA": {"female": 1.0},
    "beard": {"male": 1.0},
    "non-binary": {"they": 1.0},
    "nurse": {"female": 0.85, "male": 0.15},
    "pilot": {"female": 0.2, "male": 0.8},
}


@pytest.fixture(scope="module")
def server():
    with ScriptedServer(pronoun_rules=RATES, tone_rules={"a woman": 0.25}) as srv:
        yield srv


def gen(srv: ScriptedServer, **kw) -> OpenAICompatGenerator:
    kw.setdefault("backoff", 0.01)
    kw.setdefault("max_retries", 1)
    kw.setdefault("concurrency", 8)
    return OpenAICompatGenerator(srv.base_url, "scripted", **kw)


def test_pronoun_shares_recover_known_rates(server: ScriptedServer) -> None:
    res = probe_pronouns(
        gen(server),
        occupations=["nurse", "pilot"],
        samples=60,
        cache=False,
        reference={"nurse": 0.85, "pilot": 0.5},
    )
    rows = {r.occupation: r for r in res.occupations}
    for occ, truth in (("nurse", 0.85), ("pilot", 0.2)):
        f = rows[occ].female_share
        assert f.n == 240  # 4 neutral templates x 60 samples, every one labelled
        assert f.low <= truth <= f.high
    assert rows["pilot"].differs is True  # 0.2 vs reference 0.5
    assert rows["nurse"].reference == 0.85
    cues = {c.cue: c for c in res.cues}
    assert cues["wnba"].cued.share == 1.0 and cues["wnba"].low > 0.3
    assert cues["beard"].expected == "male" and cues["beard"].cued.share == 1.0
    assert cues["nonbinary"].cued.share == 1.0 and cues["nonbinary"].shift > 0.9
    assert res.run["errors"] == 0 and res.run["samples_per_prompt"] == 60
    d = res.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["occupations"][0]["female_share"]["n"] == 240


def test_cache_makes_a_rerun_only_score(server: ScriptedServer, tmp_path: Path) -> None:
    cache = tmp_path / "c.jsonl"
    g = gen(server)
    first = probe_pronouns(g, occupations=["nurse"], samples=5, cache=cache)
    before = server.requests
    again = probe_pronouns(g, occupations=["nurse"], samples=5, cache=cache)
    assert server.requests == before  # no request: everything came from the cache
    assert again.run["from_cache"] == again.run["completions"] == 9 * 5
    assert again.overall.female_share == first.overall.female_share
    more = probe_pronouns(g, occupations=["nurse"], samples=7, cache=cache)
    assert more.run["generated"] == 9 * 2 and more.run["from_cache"] == 9 * 5
    # a torn last line (crash mid-write) is skipped, not fatal
    with open(cache, "a") as fh:
        fh.write('{"key": "tor')
    assert probe_pronouns(g, occupations=["nurse"], samples=5, cache=cache).run["generated"] == 0


def test_default_cache_lives_in_probity_home(server: ScriptedServer, probity_home: Path) -> None:
    probe_pronouns(gen(server), occupations=["pilot"], samples=2)
    files = list((probity_home / "cache" / "probes").glob("*.jsonl"))
    assert len(files) == 1 and files[0].stat().st_size > 0


def test_transient_500s_are_retried() -> None:
    with ScriptedServer(pronoun_rules=RATES, fail_first=3) as srv:
        # concurrency 1 so the first three requests all hit one prompt's retries
        g = gen(srv, max_retries=1, concurrency=1)
        run = ProbeRunner(g, samples=4, cache=False, retries=1).run(
            load_suite("pronouns").prompts(occupations=["nurse"])
        )
        assert run.errors == [] and len(run.samples) == 9 * 4
        assert srv.requests == 9 + 3


def test_failures_timeouts_and_short_answers_are_recorded_not_counted(tmp_path: Path) -> None:
    suite = tmp_path / "s.yaml"
    suite.write_text(
        "name: s\nkind: pronouns\ncues: []\nsurnames: [Kim]\noccupations: [nurse]\n"
        "templates: ['{surname} the {occupation} ok', '{surname} @@FAIL@@ {occupation}',"
        " '{surname} @@SLOW@@ {occupation}', '{surname} @@SHORT@@ {occupation}',"
        " '{surname} @@REFUSE@@ {occupation}']\n"
    )
    with ScriptedServer(pronoun_rules={"nurse": {"female": 1.0}}, slow_seconds=1.5) as srv:
        g = gen(srv, timeout=0.3, max_retries=0)
        cache = tmp_path / "c.jsonl"
        res = probe_pronouns(g, suite=str(suite), samples=4, cache=cache, retries=1)
        errs = {e["prompt_id"]: e for e in res.run["error_messages"]}
        assert res.run["errors"] == 3
        assert "500" in errs["nurse|neutral|t1"]["message"]
        assert errs["nurse|neutral|t1"]["attempts"] == 2
        assert "timed out" in errs["nurse|neutral|t2"]["message"]
        assert "3 of 4" in errs["nurse|neutral|t3"]["message"]
        assert res.run["lost_samples"] == 4 + 4 + 1
        assert res.run["refusals"] == 4
        # only the ok template and the 3 short samples count as data
        assert res.overall.completions == 4 + 3
        assert res.overall.female_share.k == 7
        cached = [json.loads(x) for x in cache.read_text().splitlines()]
        assert {c["status"] for c in cached} == {"ok", "refusal"}  # errors are never cached


def test_backend_that_ignores_n_is_asked_again() -> None:
    with ScriptedServer(pronoun_rules=RATES, max_choices=1) as srv:
        p = load_suite("pronouns").prompts(occupations=["nurse"])[:2]
        run = ProbeRunner(gen(srv), samples=3, cache=False).run(p)
        assert run.errors == [] and len(run.samples) == 6
        assert srv.requests == 6
        assert len({(s.prompt_id, s.seed) for s in run.samples}) == 6  # a seed per call


def test_chat_endpoint_and_seeds_recorded(server: ScriptedServer) -> None:
    p = load_suite("pronouns").prompts(occupations=["pilot"])[:2]
    run = ProbeRunner(gen(server), samples=3, cache=False, chat=True, seed=11).run(p)
    assert len(run.samples) == 6 and run.params["chat"] is True
    seeds = {(s.prompt_id, s.seed) for s in run.samples}
    assert len(seeds) == 2  # one seed per prompt call, recorded on every sample
    again = ProbeRunner(gen(server), samples=3, cache=False, chat=True, seed=11).run(p)
    assert [s.text for s in again.samples] == [s.text for s in run.samples]


def test_planted_tone_gap_found_and_null_groups_not(server: ScriptedServer) -> None:
    res = probe_tone(gen(server), categories=["gender"], samples=25, cache=False, B=999)
    gaps = {(g.group, g.metric): g for g in res.gaps}
    woman = gaps[("woman", "sentiment")]
    assert woman.significant and woman.high < 0
    # planted: P(positive) 0.25 vs 0.5; the positive/negative sentences are about +-0.9
    assert woman.low < -0.25 * 1.8 * 0.6
    assert not gaps[("non-binary", "sentiment")].significant
    assert res.cut_gaps and {g.occupation for g in res.cut_gaps} == {
        "doctor",
        "nurse",
        "cashier",
        "engineer",
    }
    assert res.toxicity_source in ("guard:toxicity", "alt-profanity-check")
    json.dumps(res.to_dict(), allow_nan=False)


def test_counterfactual_pairs_on_server(server: ScriptedServer) -> None:
    res = probe_counterfactual(gen(server), categories=["gender"], samples=30, cache=False, B=999)
    by = {(p.pair, p.metric): p for p in res.pairs}
    mw = by[("a man / a woman", "sentiment")]
    assert mw.n_pairs == 4 * 30 and mw.mean_diff < 0 and mw.high < 0
    assert 0 < mw.similarity <= 1
    assert by[("a man / a woman", "length")].mean_diff == pytest.approx(0.0)
    assert res.metrics == ["sentiment", "toxicity", "length"]


def test_cli_against_server(server: ScriptedServer, tmp_path: Path, capsys) -> None:
    rep = tmp_path / "r.html"
    code = main(
        [
            "probe",
            "pronouns",
            "--base-url",
            server.base_url,
            "--model",
            "scripted",
            "--samples",
            "10",
            "--occupations",
            "nurse,pilot",
            "--reference",
            "parity",
            "--no-cache",
            "--report",
            str(rep),
            "--json",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    d = json.loads(out)
    assert d["reference_source"].startswith("parity")
    assert {r["occupation"] for r in d["occupations"]} == {"nurse", "pilot"}
    html = rep.read_text()
    assert "Pronoun share per occupation" not in html or "<img" in html
    assert html.count("data:image/png") >= 2  # share chart + cue-shift chart
    code = main(
        [
            "probe",
            "tone",
            "--base-url",
            server.base_url,
            "--samples",
            "4",
            "--categories",
            "age",
            "--resamples",
            "199",
            "--no-cache",
            "--report",
            str(tmp_path / "t.html"),
        ]
    )
    assert code == 0
    assert "elderly" in capsys.readouterr().out
    assert (tmp_path / "t.html").read_text().count("data:image/png") >= 2  # forest plots
    code = main(
        [
            "probe",
            "counterfactual",
            "--base-url",
            server.base_url,
            "--samples",
            "3",
            "--suite",
            "lending",
            "--categories",
            "gender",
            "--no-cache",
            "--json",
        ]
    )
    d = json.loads(capsys.readouterr().out)
    assert code == 0 and d["suite"] == "lending" and d["pairs"][0]["n_pairs"] == 9


def test_cli_bad_input_is_one_line(server: ScriptedServer, capsys) -> None:
    assert (
        main(["probe", "pronouns", "--base-url", server.base_url, "--occupations", "astronaut"])
        == 2
    )
    err = capsys.readouterr().err
    assert "unknown occupation 'astronaut'" in err and "Traceback" not in err
    assert main(["probe", "tone", "--base-url", server.base_url, "--correction", "x"]) == 2
    assert "unknown correction" in capsys.readouterr().err
    assert main(["probe", "pronouns", "--reference", "/nonexistent.tsv"]) == 2
    assert main(["probe", "tone", "--suite", "pronouns"]) == 2
    assert "probity probe pronouns" in capsys.readouterr().err
    assert main(["probe", "pronouns", "--base-url", server.base_url, "--samples", "0"]) == 2
    assert np.isfinite(1.0)
