"""Black-box: quotes of real prose under evasion, spans, multi-source spans, index add, bad
records (issue 21, Found 2, 3, 6, 7). Prose: the Python reference manual shipped in the stdlib
(``pydoc_data.topics``), which nobody here wrote."""

from __future__ import annotations

import json
import random
import re

import pytest

from probity.cli import main

ZW = "\u200b"
SHY = "\u00ad"
CYR = str.maketrans(
    {
        "a": "\u0430",
        "e": "\u0435",
        "o": "\u043e",
        "c": "\u0441",
        "p": "\u0440",
        "x": "\u0445",
        "y": "\u0443",
        "i": "\u0456",
    }
)


def _prose() -> list[tuple[str, str]]:
    from pydoc_data.topics import topics

    docs = [(k, v) for k, v in sorted(topics.items()) if 3000 < len(v) < 20000]
    return docs[:40]


def _sentences(docs, rng, lo=15, hi=30, n=60):
    out = []
    for did, text in docs:
        for s in re.split(r"(?<=[.!?])\s+", text):
            w = s.split()
            if lo <= len(w) <= hi and all(re.fullmatch(r"[A-Za-z,;:'()\-]+\.?", t) for t in w):
                out.append((did, " ".join(w)))
    rng.shuffle(out)
    # one sentence per document at most, so the expected source is unambiguous
    seen, picked = set(), []
    for did, s in out:
        if did not in seen:
            seen.add(did)
            picked.append((did, s))
    return picked[:n]


def _zero_width(s, rng):
    return "".join(c + (ZW if c.isalpha() and rng.random() < 0.5 else "") for c in s)


def _soft_hyphen(s, rng):
    return " ".join(
        w[: len(w) // 2] + SHY + w[len(w) // 2 :] if len(w) > 3 else w for w in s.split()
    )


def _confusable(s, rng):
    return s.translate(CYR)


def _write(path, recs):
    path.write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")
    return path


@pytest.fixture
def prose_index(tmp_path, capsys):
    docs = _prose()
    src = _write(tmp_path / "docs.jsonl", [{"id": d, "text": t} for d, t in docs])
    assert main(["overlap", "index", "build", "--name", "manual", "--input", str(src)]) == 0
    capsys.readouterr()
    return docs


def _check(capsys, text, *extra):
    capsys.readouterr()
    assert main(["overlap", "check", "--index", "manual", text, "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("evasion", ["plain", "zero_width", "soft_hyphen", "confusable"])
def test_sentence_quotes_found_under_evasion_with_defaults(prose_index, capsys, evasion):
    rng = random.Random(3)
    quotes = _sentences(prose_index, rng)
    assert len(quotes) >= 20
    fn = {
        "plain": lambda s, r: s,
        "zero_width": _zero_width,
        "soft_hyphen": _soft_hyphen,
        "confusable": _confusable,
    }[evasion]
    found = 0
    for did, s in quotes:
        q = fn(s, rng)
        text = "Here is my answer. " + q + " That is all."
        rep = _check(capsys, text)
        hit = [v for v in rep["verbatim"] if did in v.get("docs", [v["doc"]])]
        if hit:
            found += 1
            # the span is in the ORIGINAL characters of the query, covering the quote
            start = text.index(q)
            assert hit[0]["start"] >= start - 1 and hit[0]["end"] <= start + len(q) + 1
            assert hit[0]["end"] - hit[0]["start"] >= 0.5 * len(q)
    assert found / len(quotes) >= 0.95, f"{evasion}: {found}/{len(quotes)}"


def one_word_changed(docs, seed: int = 4) -> list[tuple[str, str]]:
    """A 40-word passage of each long document with its 21st word replaced."""
    rng = random.Random(seed)
    out = []
    for did, text in docs:
        w = text.split()
        if len(w) < 200:
            continue
        i = rng.randrange(0, len(w) - 40)
        q = w[i : i + 40]
        q[20] = "banana"
        out.append((did, " ".join(q)))
    return out


def test_long_quote_with_one_word_changed_found(prose_index, capsys):
    quotes = one_word_changed(prose_index[:30])
    found = 0
    for did, q in quotes:
        rep = _check(capsys, q)
        found += any(did in v.get("docs", [v["doc"]]) for v in rep["verbatim"])
    assert len(quotes) >= 20 and found / len(quotes) >= 0.95


def test_min_tokens_below_index_n_is_a_clear_error(prose_index, capsys):
    capsys.readouterr()
    rc = main(["overlap", "check", "--index", "manual", "a b c", "--min-tokens", "2"])
    assert rc == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "--ngram" in err


def test_span_shared_by_several_documents_names_all(tmp_path, capsys):
    rng = random.Random(1)
    shared = " ".join(
        rng.choice(["alpha", "beta", "gamma", "delta", "omega", "sigma"]) + str(i)
        for i in range(30)
    )
    recs = [
        {"id": f"d{i}", "text": f"intro number {i} words here. " + shared + f" outro {i}."}
        for i in range(3)
    ]
    src = _write(tmp_path / "c.jsonl", recs)
    assert (
        main(
            ["overlap", "index", "build", "--name", "manual", "--input", str(src), "--ngram", "12"]
        )
        == 0
    )
    rep = _check(capsys, "quote: " + shared)
    assert len(rep["verbatim"]) == 1
    assert sorted(rep["verbatim"][0]["docs"]) == ["d0", "d1", "d2"]


def test_index_add_skips_existing_ids(tmp_path, capsys):
    a = _write(
        tmp_path / "a.jsonl", [{"id": "a", "text": "one two three four five six seven eight"}]
    )
    assert (
        main(["overlap", "index", "build", "--name", "t", "--input", str(a), "--ngram", "4"]) == 0
    )
    b = _write(
        tmp_path / "b.jsonl",
        [
            {"id": "a", "text": "one two three four five six seven eight"},
            {"id": "b", "text": "nine ten eleven twelve thirteen fourteen"},
        ],
    )
    capsys.readouterr()
    assert main(["overlap", "index", "add", "--name", "t", "--input", str(b), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["documents"] == 2 and out["skipped_existing"] == 1


def test_lone_surrogate_record_rejected_not_fatal(tmp_path, capsys):
    src = tmp_path / "s.jsonl"
    src.write_text(
        '{"id": "bad", "text": "bad \\ud800 text here and more words"}\n'
        + json.dumps({"id": "good", "text": "good text here with enough words ok"})
        + "\n",
        encoding="utf-8",
    )
    assert (
        main(
            [
                "overlap",
                "index",
                "build",
                "--name",
                "s",
                "--input",
                str(src),
                "--ngram",
                "4",
                "--json",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["documents"] == 1
    assert out["rejected"] and "surrogate" in out["rejected"][0]["reason"]
