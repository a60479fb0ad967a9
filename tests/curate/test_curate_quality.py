"""Quality, language, text-repair and URL stages: every drop names its rule."""

from __future__ import annotations

import json

from probity.cli import main

PROSE = (
    "The river rose quickly after the storm, and the people of the town watched it with "
    "growing concern. By the evening the water had reached the old stone bridge that the "
    "farmers use to bring their goods to market. Nobody could remember a flood like it, and "
    "the older residents said that the last time the river came this high was before the war. "
    "The council met that night to decide what to do with the families living near the bank."
)


def _run(tmp_path, recs, stages):
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    (tmp_path / "job.yaml").write_text(
        f'inputs: ["in.jsonl"]\nid_field: id\nstages:\n{stages}output: {{path: out}}\n'
    )
    assert main(["curate", "run", str(tmp_path / "job.yaml")]) == 0
    kept = [json.loads(x) for p in sorted((tmp_path / "out").glob("part-*")) for x in p.open()]
    dropped = {
        d["id"]: d["reason"] for d in map(json.loads, (tmp_path / "out" / "dropped.jsonl").open())
    }
    return {r["id"]: r for r in kept}, dropped


def test_quality_rules_named_in_reasons(tmp_path):
    recs = [
        {"id": "good", "text": PROSE},
        {"id": "short", "text": "Too short to be a document."},
        {"id": "symbols", "text": " ".join(["#tag ..."] * 60) + " the and of"},
        {"id": "lorem", "text": PROSE + " Lorem ipsum dolor sit amet."},
        {"id": "code", "text": PROSE + " function f() { return 1; }"},
        {"id": "lines", "text": "\n".join(["the and of"] * 30 + [PROSE])},
    ]
    kept, dropped = _run(tmp_path, recs, "  - filter_quality\n")
    assert set(kept) == {"good"}
    assert dropped["short"] == "quality:gopher:too_few_words"
    assert dropped["symbols"].startswith("quality:gopher:")
    assert dropped["lorem"] == "quality:c4:lorem_ipsum"
    assert dropped["code"] == "quality:c4:curly_bracket"
    assert dropped["lines"].startswith("quality:fineweb:")


def test_language_fix_text_and_url(tmp_path):
    recs = [
        {"id": "en", "text": PROSE.replace("'", "â€™"), "url": "https://news.example.org/a"},
        {"id": "de", "text": "Der Fluss stieg nach dem Sturm schnell an, und die Leute sahen zu."},
        {"id": "spam", "text": PROSE, "url": "http://ads.spam.example.com/x"},
    ]
    stages = (
        "  - fix_text\n  - {name: filter_url, block_domains: [spam.example.com]}\n"
        "  - {name: filter_language, languages: [en]}\n"
    )
    kept, dropped = _run(tmp_path, recs, stages)
    assert set(kept) == {"en"} and kept["en"]["language"] == "en"
    assert "â€" not in kept["en"]["text"]
    assert dropped == {"de": "language:de", "spam": "url:blocked_domain:spam.example.com"}
