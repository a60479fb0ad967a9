"""The gateway's demo step runs offline and reports a clean and a blocked request."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from probity.demo import DemoContext
from probity.errors import ModelError
from probity.report import Report


class _NoModel(DemoContext):
    def model(self) -> None:
        raise ModelError("no demo model in this test")


def test_demo_step_without_a_model_fronts_the_echo_upstream(tmp_path: Path) -> None:
    from probity.demo import step_gateway

    ctx = _NoModel(out_dir=tmp_path, report=Report("t"), console=Console(quiet=True))
    out = step_gateway.run(ctx)
    assert step_gateway.ORDER == 80
    assert out["blocked_status"] == 400 and out["blocked_code"] == "content_filter"
    assert out["clean_finish_reason"] == "stop"
    assert out["audit_records"] == 2 and out["audit_ok"] is True
    assert "Gateway" in ctx.report.sections[-1].title
