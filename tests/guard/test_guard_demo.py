"""The guard's demo step runs offline and reports what it shows."""

from __future__ import annotations

from rich.console import Console

from probity.demo import DemoContext
from probity.report import Report


def test_demo_step_guard(tmp_path):
    from probity.demo import step_guard

    ctx = DemoContext(out_dir=tmp_path, report=Report("t"), console=Console(quiet=True), quiet=True)
    out = step_guard.run(ctx)
    assert step_guard.ORDER == 20
    assert out["audit_ok"] and out["stream_final"] == "block"
    assert out["restored"].startswith("I will call Laura Bianchi")
    assert out["answers"]["default"][1] == "flag" and out["answers"]["focus-group"][1] == "block"
    assert out["prompt_actions"][2] == "block"
