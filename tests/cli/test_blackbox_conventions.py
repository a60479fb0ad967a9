"""Black-box checks of the CLI's conventions, written from the issue and docs/cli.md alone.

Each runs the installed ``probity`` command in a subprocess, the way a user (or a shell
pipeline) does: stdout is a pipe, not a terminal.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import yaml

PROBITY = [sys.executable, "-m", "probity"]


def run(args, *, cwd=None, umask=None, input=None, env=None):
    def _pre():  # pragma: no cover - runs in the child
        if umask is not None:
            os.umask(umask)

    return subprocess.run(
        PROBITY + list(args),
        cwd=cwd,
        capture_output=True,
        text=True,
        input=input,
        env={**os.environ, "COLUMNS": "80", **(env or {})},
        preexec_fn=_pre,
        timeout=300,
    )


def test_doctor_json_home_is_a_bare_path(probity_home):
    r = run(["doctor", "--json"])
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["home"] == str(probity_home)


def test_policy_show_to_a_pipe_is_valid_yaml_that_validates(tmp_path):
    r = run(["guard", "policy", "show", "default"])
    assert r.returncode == 0, r.stderr
    yaml.safe_load(r.stdout)  # not hard-wrapped mid-value
    (tmp_path / "f.yaml").write_text(r.stdout, encoding="utf-8")
    v = run(["guard", "policy", "validate", str(tmp_path / "f.yaml")])
    assert v.returncode == 0, v.stdout + v.stderr


def test_generated_text_to_a_pipe_is_not_hard_wrapped():
    assert run(["keys", "new", "k"]).returncode == 0
    args = ["watermark", "generate", "--key", "k", "--max-new-tokens", "60", "--seed", "3"]
    plain = run([*args, "Once upon a time"])
    js = run([*args, "--json", "Once upon a time"])
    assert plain.returncode == 0 and js.returncode == 0, plain.stderr + js.stderr
    text = json.loads(js.stdout)["completion"]["text"]
    assert text.strip() in plain.stdout


def test_generating_past_the_context_window_does_not_crash():
    # The embedded model's context is 128 tokens; ask for 200 new ones.
    assert run(["keys", "new", "k"]).returncode == 0
    r = run(["watermark", "generate", "--key", "k", "--max-new-tokens", "200", "Once upon a time"])
    assert "unexpected" not in r.stderr, r.stderr
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.split()) > 20


def test_files_written_respect_the_umask(tmp_path):
    (tmp_path / "in.jsonl").write_text('{"text": "hello there"}\n', encoding="utf-8")
    r = run(
        ["guard", "batch", "--input", "in.jsonl", "--field", "text", "--output", "out.jsonl"],
        cwd=tmp_path,
        umask=0o022,
    )
    assert r.returncode == 0, r.stderr
    mode = stat.S_IMODE((tmp_path / "out.jsonl").stat().st_mode)
    assert mode == 0o644, oct(mode)


def test_guard_batch_unknown_field_is_a_usage_error(tmp_path):
    (tmp_path / "in.jsonl").write_text('{"text": "hello"}\n', encoding="utf-8")
    r = run(
        ["guard", "batch", "--input", "in.jsonl", "--field", "nosuch", "--output", "o.jsonl"],
        cwd=tmp_path,
    )
    assert r.returncode == 2
    assert r.stderr.strip().startswith("error:") and "nosuch" in r.stderr


def test_guard_batch_field_missing_from_some_records_still_runs(tmp_path):
    # Only a field that no record has is a usage error; a few records without it are rejects.
    (tmp_path / "in.jsonl").write_text('{"text": "hello"}\n{"body": "x"}\n', encoding="utf-8")
    r = run(
        ["guard", "batch", "--input", "in.jsonl", "--output", "o.jsonl", "--json"],
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["records"] == 1 and summary["rejected"] == 1
