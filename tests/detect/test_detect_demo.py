"""The provenance demo step on the embedded demo model; skips cleanly without a model."""

from __future__ import annotations

import pytest
from rich.console import Console

from probity.demo import DemoContext
from probity.errors import ModelError
from probity.report import Report


def _ctx(tmp_path, model=None):
    ctx = DemoContext(out_dir=tmp_path, report=Report("t"), console=Console(), quick=True)
    if model is not None:
        ctx.cache["model"] = model
    return ctx


def test_demo_step_reports_proof_evidence_and_none(tmp_path):
    # the embedded model, not the random tiny one: its text re-tokenises to the generated ids,
    # so the watermark is found for every key (the tiny model's byte fragments lose it at times)
    from probity.demo import step_detect
    from probity.lm import load_model

    try:
        model = load_model(None)
    except ModelError as exc:
        pytest.skip(str(exc))
    ctx = _ctx(tmp_path, model)
    rows = step_detect.run(ctx)["results"]
    assert rows[0]["kind"] == "proof" and rows[0]["certificate"] == "signed"
    assert rows[1]["kind"] == "evidence" and rows[1]["zero_shot"] == "machine-likely"
    assert rows[2]["kind"] == "none" and rows[2]["zero_shot"] == "no-evidence"
    assert rows[0]["watermark_p"] < 1e-6 and rows[1]["zero_shot_p"] <= 0.01
    html = ctx.report.write(tmp_path / "r.html").read_text()
    assert "Provenance" in html and "<img" in html  # the section with its chart


def test_demo_step_skips_cleanly_without_the_demo_model(tmp_path, monkeypatch):
    from probity.demo import step_detect

    ctx = _ctx(tmp_path)

    def missing():
        raise ModelError("the embedded demo model is not installed")

    monkeypatch.setattr(ctx, "model", missing)
    assert "skipped" in step_detect.run(ctx)
