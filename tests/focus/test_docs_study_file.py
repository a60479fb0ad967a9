"""issue 22: the study.yaml that docs/focus-group.md shows loads as written, and a file with
the old unquoted descriptions is rejected with every problem listed (never "(and N more)")."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from probity.errors import ConfigError, InputError
from probity.focus.grid import load_study

DOC = Path(__file__).resolve().parents[2] / "docs" / "focus-group.md"


def _doc_study() -> str:
    m = re.search(r"```yaml file=study\.yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert m, "docs/focus-group.md lost its study.yaml block"
    return m.group(1)


def test_the_documented_study_file_loads(tmp_path):
    (tmp_path / "study.yaml").write_text(_doc_study(), encoding="utf-8")
    cfg = load_study(tmp_path / "study.yaml")
    assert [p.description for p in cfg.products] == [
        "A light, fast e-bike, 1,900 euros.",
        "A comfortable step-through e-bike, 2,300 euros.",
    ]


def test_unquoted_commas_list_every_problem(tmp_path):
    text = _doc_study().replace(
        '"A light, fast e-bike, 1,900 euros."', "A light, fast e-bike, 1,900 euros."
    )
    text = text.replace(
        '"A comfortable step-through e-bike, 2,300 euros."',
        "A comfortable step-through e-bike, 2,300 euros.",
    )
    (tmp_path / "bad.yaml").write_text(text, encoding="utf-8")
    with pytest.raises((ConfigError, InputError)) as info:
        load_study(tmp_path / "bad.yaml")
    msg = str(info.value)
    assert "more)" not in msg
    assert "fast e-bike" in msg and "900 euros." in msg and "300 euros." in msg
