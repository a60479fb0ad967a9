"""A core install (no extras): features that need an extra stop with one line that says how to
install it from a clone, never from the package index (where `probity` is another project)."""

from __future__ import annotations

import os
import subprocess
import sys

# Run the CLI with the given top-level modules made unimportable, as in a core install.
_SHIM = (
    "import sys\n"
    "for m in sys.argv[1].split(','):\n"
    "    sys.modules[m] = None\n"
    "from probity.cli import main\n"
    "sys.exit(main(sys.argv[2:]))\n"
)


def run_without(modules: list[str], args: list[str], cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", _SHIM, ",".join(modules), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=dict(os.environ),
        timeout=600,
    )


def _assert_clone_hint(r: subprocess.CompletedProcess, extra: str) -> None:
    assert "unexpected" not in r.stderr, r.stderr
    assert "No module named" not in r.stderr, r.stderr
    assert f"pip install -e '.[{extra}]'" in r.stderr, r.stderr
    assert "pip install 'probity" not in r.stderr and "pip install probity" not in r.stderr


def test_serve_check_without_the_server_extra(tmp_path):
    (tmp_path / "gateway.yaml").write_text("policy: default\n", encoding="utf-8")
    r = run_without(
        ["fastapi", "uvicorn"], ["serve", "--config", "gateway.yaml", "--check"], tmp_path
    )
    assert r.returncode != 0
    _assert_clone_hint(r, "server")
    assert len([x for x in r.stderr.splitlines() if x.startswith("error:")]) == 1


def test_watermark_generate_without_the_hf_extra():
    assert run_without([], ["keys", "new", "k"]).returncode == 0
    r = run_without(["torch", "transformers"], ["watermark", "generate", "--key", "k", "hi"])
    assert r.returncode != 0
    _assert_clone_hint(r, "hf")


def test_doctor_notes_keep_the_extra_in_brackets(monkeypatch, capsys):
    import probity.doctor as doctor
    from probity.cli import main

    real = doctor._version
    monkeypatch.setattr(doctor, "_version", lambda d: None if d == "torch" else real(d))
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "pip install -e '.[hf]'" in out  # rich markup must not swallow "[hf]"


def test_missing_dependency_message_names_the_extra_from_a_clone():
    from probity.errors import MissingDependencyError, install_hint

    msg = str(MissingDependencyError("torch", "hf"))
    assert "pip install -e '.[hf]'" in msg and install_hint("hf") in msg
