"""The CLI's shared behaviour: version, doctor, help, one-line errors and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

from probity import __version__
from probity.cli import main


def test_version_and_help(capsys):
    assert main(["--version"]) == 0
    assert __version__ in capsys.readouterr().out
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for group in (
        "watermark",
        "guard",
        "overlap",
        "cite",
        "audit",
        "probe",
        "serve",
        "curate",
        "demo",
    ):
        assert group in out


def test_doctor_json_is_valid_and_reports_home(capsys, probity_home):
    assert main(["doctor", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["home"].startswith(str(probity_home))
    assert data["packages"]["numpy"]["version"]
    assert "demo_model_present" in data["offline"]


def test_usage_errors_are_one_line_with_exit_code_2(capsys):
    assert main(["doctor", "--no-such-flag"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: No such option: --no-such-flag") and "\n" not in err


def test_a_group_without_a_verb_shows_help_and_succeeds(capsys):
    assert main(["watermark"]) == 0
    assert "Usage" in capsys.readouterr().out


def test_console_script_starts_fast_without_heavy_imports():
    code = (
        "import sys, probity.cli; heavy = [m for m in ('torch', 'transformers', 'presidio_analyzer',"
        " 'ray', 'sklearn', 'pandas') if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
