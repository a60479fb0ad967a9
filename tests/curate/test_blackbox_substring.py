"""Black-box tests of the ``dedup_substring`` stage (exact-substring dedup with a suffix array,
Lee et al. 2021), written from issue 21 and docs/curate.md: run as whole jobs through
``probity curate`` so the accounting, sidecar and executors are exercised too."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from test_curate_pipeline import WORDS
from test_curate_stages import _job
from test_curate_stages import _run as _run_job


def _sentence(rng: random.Random, n: int) -> str:
    """Words drawn with a seeded generator from the pipeline tests' list: repeats are planted."""
    return " ".join(rng.choice(WORDS) for _ in range(n)) + "."


def _write_job(tmp: Path, records: list[dict], stage: str, executor: str = "local") -> Path:
    return _job(tmp, records, f"  - {stage}\n", f", executor: {executor}")


def _run(job: Path):
    rep, kept, dropped = _run_job(job)
    return rep, {k: r["text"] for k, r in kept.items()}, dropped


BOILER = (
    "This page is part of the archive; all rights reserved by the authors and reproduced "
    "here with permission for research use only."
)


def test_span_repeated_across_documents_removed_byte_exactly_first_kept(tmp_path):
    rng = random.Random(1)
    heads = [_sentence(rng, 12) for _ in range(4)]
    tails = [_sentence(rng, 12) for _ in range(4)]
    # the digit either side differs per document, so the repeated span is exactly BOILER
    recs = [{"id": f"d{i}", "text": f"{heads[i]}{i}{BOILER}{i}{tails[i]}"} for i in range(4)]
    job = _write_job(tmp_path, recs, "{name: dedup_substring, min_bytes: 60, min_doc_bytes: 10}")
    rep, kept, dropped = _run(job)
    assert not dropped
    assert kept["d0"] == recs[0]["text"]  # the first occurrence is kept whole
    for i in range(1, 4):
        # only the repeated span goes; the bytes either side are untouched
        assert kept[f"d{i}"] == f"{heads[i]}{i}{i}{tails[i]}", kept[f"d{i}"]
    stage = rep.to_dict()["stages"][-1]
    assert stage["name"] == "dedup_substring" and stage["changed"] == 3
    ex = [e for e in stage["examples"] if e["action"] == "changed"]
    assert ex and ex[0]["after"] == kept[ex[0]["id"]][:200] and BOILER[:40] in ex[0]["before"]


def test_short_repeats_untouched(tmp_path):
    rng = random.Random(2)
    short = "all rights reserved by the authors"  # 34 bytes < min_bytes
    recs = [
        {"id": f"d{i}", "text": f"{_sentence(rng, 10)} {short} {_sentence(rng, 10)}"}
        for i in range(5)
    ]
    job = _write_job(tmp_path, recs, "{name: dedup_substring, min_bytes: 50}")
    _, kept, dropped = _run(job)
    assert not dropped
    assert kept == {r["id"]: r["text"] for r in recs}


def test_document_made_too_short_dropped_with_named_reason(tmp_path):
    rng = random.Random(3)
    recs = [
        {"id": "a", "text": f"{_sentence(rng, 10)} {BOILER}"},
        {"id": "b", "text": f"Hi. {BOILER}"},  # nearly all of it repeats
        {"id": "c", "text": _sentence(rng, 15)},
    ]
    job = _write_job(tmp_path, recs, "{name: dedup_substring, min_bytes: 60, min_doc_bytes: 20}")
    _, kept, dropped = _run(job)
    assert set(kept) == {"a", "c"} and kept["a"] == recs[0]["text"]
    assert dropped["b"]["stage"] == "dedup_substring"
    assert dropped["b"]["reason"] == "substring_too_short"
    assert dropped["b"]["representative"] == "a"


def test_repeat_inside_one_document_after_its_first_occurrence(tmp_path):
    rec = {"id": "x", "text": f"{BOILER} middle words here {BOILER} end"}
    job = _write_job(tmp_path, [rec], "{name: dedup_substring, min_bytes: 60, min_doc_bytes: 1}")
    _, kept, _ = _run(job)
    # both copies are followed by a space, so the repeated span is BOILER plus that space
    assert kept["x"] == f"{BOILER} middle words here end"


def test_multibyte_text_stays_valid_and_span_is_exact(tmp_path):
    span = (
        "Ce paragraphe répété — «naïveté» 日本語のテキスト — doit disparaître des copies suivantes."
    )
    # the characters around the span share a UTF-8 byte across documents: after it é è ê
    # (C3 A9 / C3 A8 / C3 AA) share their first byte, before it é and © (C3 A9 / C2 A9) their
    # last, so the byte match starts and ends inside characters
    before, after = ["é", "©", "é"], ["é", "è", "ê"]
    recs = [{"id": f"m{i}", "text": f"{i}{before[i]}{span}{after[i]}"} for i in range(3)]
    job = _write_job(tmp_path, recs, "{name: dedup_substring, min_bytes: 40, min_doc_bytes: 1}")
    _, kept, _ = _run(job)
    assert kept["m0"] == recs[0]["text"]
    assert kept["m1"] == "1©è" and kept["m2"] == "2ê"


def test_lone_surrogate_and_empty_records(tmp_path):
    lines = [
        json.dumps({"id": "a", "text": f"one {BOILER}"}),
        '{"id": "bad", "text": "broken \\ud800 record"}',
        json.dumps({"id": "e", "text": ""}),
        json.dumps({"id": "b", "text": f"two {BOILER} and more words to keep it long"}),
    ]
    (tmp_path / "corpus.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    job = _write_job(tmp_path, [], "{name: dedup_substring, min_bytes: 60, min_doc_bytes: 5}")
    (tmp_path / "corpus.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    _, kept, dropped = _run(job)
    rejects = (tmp_path / "out" / "rejects.jsonl").read_text()
    assert '"bad"' in rejects or "surrogate" in rejects
    assert kept["a"] == f"one {BOILER}"
    assert kept["b"] == "two and more words to keep it long"
    assert "e" in kept or dropped["e"]["stage"] == "dedup_substring"


def _corpus(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    shared = [_sentence(rng, 20) for _ in range(5)]
    recs = []
    for i in range(n):
        parts = [_sentence(rng, rng.randint(3, 15)) for _ in range(3)]
        if rng.random() < 0.6:
            parts.insert(rng.randint(0, 3), rng.choice(shared))
        recs.append({"id": f"r{i}", "text": " ".join(parts)})
    return recs


def test_same_output_local_and_ray(tmp_path):
    pytest.importorskip("ray")
    outs = {}
    for ex in ("local", "ray"):
        d = tmp_path / ex
        d.mkdir()
        job = _write_job(d, _corpus(40, 5), "{name: dedup_substring, min_bytes: 50}", ex)
        _run(job)
        outs[ex] = [(d / "out" / n).read_bytes() for n in ("part-00000.jsonl", "dropped.jsonl")]
    assert outs["local"] == outs["ray"]


def test_memory_limit_is_a_clear_cli_error(tmp_path):
    job = _write_job(tmp_path, _corpus(30, 7), "{name: dedup_substring, max_corpus_bytes: 100}")
    p = subprocess.run(
        [sys.executable, "-m", "probity", "curate", "run", str(job)],
        capture_output=True,
        text=True,
    )
    assert p.returncode == 2, p.stderr
    assert p.stderr.strip().startswith("error:") and "max_corpus_bytes" in p.stderr
    assert "Traceback" not in p.stderr


def test_agrees_with_hash_of_every_window(tmp_path):
    """Lee et al.'s rule as a plain reference: a byte goes when it lies in an L-byte window
    (inside one document) that already occurred earlier in the corpus."""
    recs = _corpus(60, 11)
    L = 50
    seen: set[bytes] = set()
    expect = {}
    for r in recs:
        b = r["text"].encode()
        gone = bytearray(len(b))
        for p in range(len(b) - L + 1):
            w = b[p : p + L]
            if w in seen:
                gone[p : p + L] = b"\x01" * L
            else:
                seen.add(w)
        expect[r["id"]] = bytes(c for c, g in zip(b, gone, strict=True) if not g).decode()
    job = _write_job(tmp_path, recs, f"{{name: dedup_substring, min_bytes: {L}, min_doc_bytes: 0}}")
    _, kept, dropped = _run(job)
    assert not dropped
    assert kept == expect


def test_random_multibyte_corpus_matches_the_window_rule():
    """Seeded random texts over a small alphabet of 1- to 4-byte characters (so matches start
    and end inside characters often): the stage keeps a character unless every byte of it
    lies in a window seen earlier, and the result is always valid text."""
    from probity.curate.substring import substring_dedup

    rng = random.Random(21)
    alphabet = ["a", "b", " ", "é", "è", "©", "日", "本", "😀", "😁"]
    texts = [
        "".join(rng.choice(alphabet[: rng.randint(3, 10)]) for _ in range(rng.randint(0, 60)))
        for _ in range(80)
    ]
    L = 6
    seen: set[bytes] = set()
    expect = []
    for t in texts:
        b = t.encode()
        gone = [False] * len(b)
        for p in range(len(b) - L + 1):
            if b[p : p + L] in seen:
                gone[p : p + L] = [True] * L
            else:
                seen.add(b[p : p + L])
        out, pos = [], 0
        for ch in t:
            n = len(ch.encode())
            if not all(gone[pos : pos + n]):
                out.append(ch)
            pos += n
        expect.append("".join(out))
    res = substring_dedup(texts, min_bytes=L, min_doc_bytes=0)
    assert res.texts == expect


def test_memory_per_byte_stays_under_the_documented_figure():
    """The limit's error message and the docs promise about BYTES_PER_INPUT_BYTE bytes of
    memory per byte of text: the traced peak (numpy and pydivsufsort arrays) on 1 MB."""
    import tracemalloc

    from probity.curate.substring import BYTES_PER_INPUT_BYTE, substring_dedup

    texts = [r["text"] for r in _corpus(1500, 13)]
    size = sum(len(t.encode()) for t in texts)
    tracemalloc.start()
    try:
        res = substring_dedup(texts, min_bytes=50, min_doc_bytes=0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert res.removed_bytes.sum() > 0
    assert peak < BYTES_PER_INPUT_BYTE * size, peak / size


def test_empty_corpus_and_empty_texts():
    from probity.curate.substring import substring_dedup

    assert substring_dedup([]).texts == []
    assert substring_dedup(["", "", ""], min_bytes=1).texts == ["", "", ""]
    res = substring_dedup(["", "abcdef", "", "abcdef"], min_bytes=3, min_doc_bytes=1)
    assert res.texts == ["", "abcdef", "", None] and list(res.source) == [-1, -1, -1, 1]
