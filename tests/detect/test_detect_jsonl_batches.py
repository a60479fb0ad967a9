"""`probity detect --jsonl` over more texts than one batch: every record, in order, and the
same verdicts as checking each text alone."""

from __future__ import annotations

import json

from probity.cli import main

WORDS = [
    "the",
    "river",
    "old",
    "garden",
    "light",
    "quiet",
    "teacher",
    "wrote",
    "letters",
    "near",
    "morning",
    "rain",
]


def test_jsonl_past_one_batch_keeps_order_and_verdicts(tmp_path, capsys):
    texts = [" ".join(WORDS[(i + k) % len(WORDS)] for k in range(30 + i % 7)) for i in range(40)]
    f = tmp_path / "answers.jsonl"
    f.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), encoding="utf-8")
    assert main(["detect", "--jsonl", str(f), "--json"]) == 0
    out = capsys.readouterr().out
    # A JSON array, or JSON lines (one object per record), whichever the CLI prints.
    batch = (
        json.loads(out)
        if out.lstrip().startswith("[")
        else [json.loads(line) for line in out.splitlines() if line.strip()]
    )
    assert len(batch) == 40
    assert main(["detect", "--json", texts[37]]) == 0
    alone = json.loads(capsys.readouterr().out)
    assert batch[37]["zero_shot"]["score"] == alone["zero_shot"]["score"]
