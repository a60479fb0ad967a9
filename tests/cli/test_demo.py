"""`probity demo`: the tour runs offline, writes its report, and keeps the user's home clean."""

from __future__ import annotations

import json

from probity.cli import main


def test_demo_quick_runs_every_step_and_writes_the_report(tmp_path, capsys, probity_home):
    out = tmp_path / "demo"
    assert main(["demo", "--quick", "--out", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    failed = [s for s in summary["steps"] if s["status"] != "ok"]
    assert not failed, failed
    assert len(summary["steps"]) >= 8
    html = (out / "report.html").read_text()
    assert "Probity demo" in html and "data:image/png" in html
    assert not probity_home.exists() or not any(probity_home.iterdir())  # user's home untouched
