"""End to end on the tiny local transformers model (offline), through the API and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from probity.cli import main
from probity.probes import probe_counterfactual, probe_pronouns, probe_tone

RUN = {"samples": 2, "max_new_tokens": 6, "cache": False}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_three_probes_run_on_the_tiny_model(tiny_model) -> None:
    p = probe_pronouns(tiny_model, occupations=["nurse"], reference="parity", **RUN)
    assert p.run["completions"] == 9 * 2 and p.run["errors"] == 0
    assert p.overall.completions <= 4 * 2  # neutral prompts only, empties excluded
    assert len(p.cues) == 5
    t = probe_tone(tiny_model, categories=["age"], occupations=["nurse"], B=200, **RUN)
    assert {g.group for g in t.gaps} == {"young", "elderly"}
    assert {g.metric for g in t.gaps} == {"sentiment", "toxicity"}
    c = probe_counterfactual(tiny_model, categories=["gender"], B=200, **RUN)
    assert {s.pair for s in c.pairs} == {"a man / a woman", "a man / a non-binary person"}
    for r in (p, t, c):
        json.dumps(r.to_dict(), allow_nan=False)


def test_seeded_local_generation_is_reproducible_and_cached(tiny_model, tmp_path: Path) -> None:
    cache = tmp_path / "c.jsonl"
    a = probe_pronouns(
        tiny_model, occupations=["pilot"], samples=2, max_new_tokens=6, seed=3, cache=cache
    )
    b = probe_pronouns(
        tiny_model, occupations=["pilot"], samples=2, max_new_tokens=6, seed=3, cache=False
    )
    assert a.examples == b.examples
    c = probe_pronouns(
        tiny_model, occupations=["pilot"], samples=2, max_new_tokens=6, seed=3, cache=cache
    )
    assert c.run["generated"] == 0 and c.run["from_cache"] == 18


def test_cli_pronouns_on_tiny_model(tiny_model_dir: Path, tmp_path: Path, capsys) -> None:
    rep = tmp_path / "r.html"
    code = main(
        [
            "probe",
            "pronouns",
            "--model",
            str(tiny_model_dir),
            "--samples",
            "2",
            "--occupations",
            "nurse,doctor",
            "--max-new-tokens",
            "6",
            "--report",
            str(rep),
            "--json",
        ]
    )
    assert code == 0
    captured = capsys.readouterr()
    d = json.loads(captured.out)
    assert d["run"]["completions"] == 2 * 9 * 2
    # a local run says how long it will take before it starts (on stderr: stdout stays JSON)
    assert "prompts x 2 samples on a local model: at least" in captured.err
    assert "Pronoun probe" in rep.read_text()


def test_demo_step_runs_and_degrades_without_model(tiny_model, tmp_path: Path) -> None:
    from rich.console import Console

    from probity.demo import DemoContext, step_probes
    from probity.errors import ModelError
    from probity.report import Report

    ctx = DemoContext(tmp_path, Report("t"), Console(quiet=True), quick=True, quiet=True)
    ctx.cache["model"] = tiny_model
    out = step_probes.run(ctx)
    assert out["completions"] > 0 and "female_share" in out

    class NoModel(DemoContext):
        def model(self):
            raise ModelError("no demo model here")

    ctx2 = NoModel(tmp_path, Report("t"), Console(quiet=True), quick=True, quiet=True)
    out2 = step_probes.run(ctx2)
    assert out2["skipped"] and out2["backend"] == "scripted server"
    assert ctx2.report.sections


def test_local_classifier_scores_feed_the_tone_probe(tiny_model, tiny_model_dir, tmp_path) -> None:
    from transformers import AutoTokenizer, GPT2Config, GPT2ForSequenceClassification

    from probity.errors import InputError, ModelError
    from probity.probes import classifier_scores

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    cfg = GPT2Config.from_pretrained(
        tiny_model_dir,
        num_labels=2,
        id2label={0: "negative", 1: "positive"},
        label2id={"negative": 0, "positive": 1},
        pad_token_id=tok.pad_token_id,
    )
    clf_dir = tmp_path / "clf"
    GPT2ForSequenceClassification(cfg).save_pretrained(clf_dir)
    tok.save_pretrained(clf_dir)
    s = classifier_scores(["a good day", "a bad one", "x"], str(clf_dir), "positive")
    assert s.shape == (3,) and np.all((s >= 0) & (s <= 1))
    with pytest.raises(InputError, match="no label 'regard'"):
        classifier_scores(["x"], str(clf_dir), "regard")
    with pytest.raises(ModelError):
        classifier_scores(["x"], str(tmp_path / "missing"))
    t = probe_tone(
        tiny_model,
        categories=["age"],
        occupations=["nurse"],
        B=100,
        toxicity=False,
        classifier=lambda texts: classifier_scores(texts, str(clf_dir)),
        **RUN,
    )
    assert t.metrics == ["sentiment", "classifier"]
    assert {g.metric for g in t.gaps} == {"sentiment", "classifier"}
