"""issue 22: a job's user stage is found beside the job file, run from any folder; joining a
Ray cluster that is not there is one error line with the fix (exit 2)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import pytest

PROBITY = [sys.executable, "-m", "probity"]


def _job(tmp_path):
    job_dir = tmp_path / "job"
    (job_dir / "mypkg").mkdir(parents=True)
    (job_dir / "mypkg" / "__init__.py").write_text("", encoding="utf-8")
    (job_dir / "mypkg" / "stages.py").write_text(
        "def drop_short(r):\n    return r if len(r['text']) > 5 else None\n", encoding="utf-8"
    )
    (job_dir / "in.jsonl").write_text(
        '{"text": "a record long enough to keep"}\n{"text": "hi"}\n', encoding="utf-8"
    )
    (job_dir / "job.yaml").write_text(
        "inputs: [in.jsonl]\n"
        "stages:\n  - {name: user, function: 'mypkg.stages:drop_short'}\n"
        "output: {path: out}\n",
        encoding="utf-8",
    )
    return job_dir / "job.yaml"


def _run(args, cwd):
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    return subprocess.run(
        PROBITY + args, cwd=cwd, capture_output=True, text=True, env=env, timeout=120
    )


def test_user_stage_module_beside_the_job_file_is_found_from_another_folder(tmp_path):
    job = _job(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    r = _run(["curate", "run", str(job), "--json"], cwd=elsewhere)
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["records_out"] == 1 and report["dropped"] == 1


@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="ray extra not installed")
def test_ray_address_with_no_cluster_is_one_error_line(tmp_path):
    job = _job(tmp_path)
    r = _run(["curate", "run", str(job), "--ray-address", "auto"], cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), r.stderr
    assert "unexpected" not in r.stderr and "ray start --head" in r.stderr
