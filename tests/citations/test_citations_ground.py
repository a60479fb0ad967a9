"""Grounding: supported / unsupported / no_evidence per sentence, with spans and passages."""

from __future__ import annotations

import json

import pytest

from probity.citations import ground
from probity.errors import InputError

DOCS = {
    "rivers.md": "The Danube flows through ten countries. It rises in the Black Forest and "
    "empties into the Black Sea. Vienna and Budapest lie on its banks.",
    "alps.txt": "Mont Blanc is the highest mountain of the Alps at 4,806 metres. "
    "It lies on the border of France and Italy.",
}
ANSWER = (
    "The Danube rises in the Black Forest and empties into the Black Sea. "
    "Mont Blanc is the highest mountain of the Alps at 5,100 metres. "
    "Penguins enjoy jazz concerts on Tuesdays."
)


def test_statuses_spans_and_passages():
    res = ground(ANSWER, DOCS)
    st = [s.status for s in res.sentences]
    assert st == ["supported", "unsupported", "no_evidence"]
    first = res.sentences[0]
    assert ANSWER[first.span.start : first.span.end] == first.text
    assert first.passages[0].doc == "rivers.md"
    p = first.passages[0]
    assert DOCS[p.doc][p.start : p.end] == p.text
    assert res.supported_fraction == pytest.approx(1 / 3)
    assert res.to_dict()["method"] == "overlap"


def test_folder_and_jsonl_corpora(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    for name, text in DOCS.items():
        (folder / name).write_text(text, encoding="utf-8")
    assert ground(ANSWER, folder).sentences[0].status == "supported"
    jl = tmp_path / "c.jsonl"
    jl.write_text(
        "\n".join(json.dumps({"id": k, "text": v}) for k, v in DOCS.items()), encoding="utf-8"
    )
    assert ground(ANSWER, jl).sentences[0].passages[0].doc == "rivers.md"


def test_bad_inputs(tmp_path):
    with pytest.raises(InputError):
        ground("   ", DOCS)
    with pytest.raises(InputError):
        ground(ANSWER, tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=r"no \.txt"):
        ground(ANSWER, tmp_path / "empty")
