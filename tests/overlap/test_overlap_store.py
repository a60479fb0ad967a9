from __future__ import annotations

import pytest
from overlap_helpers import CODE_A, CODE_A_RENAMED, CODE_B, UNRELATED, mutate

from probity.errors import CorruptIndexError, InputError, UnknownKeyError
from probity.home import indexes_dir
from probity.overlap import OverlapIndex, list_indexes
from probity.overlap import store as store_mod


def _records(corpus):
    return [(f"doc{i}", t) for i, t in enumerate(corpus)]


def test_build_open_check_text(corpus, rng):
    OverlapIndex.build("books", _records(corpus), ngram=12)
    idx = OverlapIndex.open("books")
    assert idx.stats().documents == len(corpus)
    copied = " ".join(corpus[9].split()[10:50])
    rep = idx.check("My answer: " + copied + " That is all.")
    assert [s.doc for s in rep.verbatim] == ["doc9"]
    near = idx.check(mutate(corpus[4], 0.01, rng))
    assert near.near_duplicates and near.near_duplicates[0].doc == "doc4"
    assert near.near_duplicates[0].jaccard >= 0.8
    clean = idx.check("nothing like the corpus at all, just a sentence of plain English words.")
    assert not clean.found
    d = rep.to_dict()
    assert d["verbatim"][0]["doc"] == "doc9" and d["verbatim_chars"] > 100


def test_add_is_incremental_skips_existing_ids_and_rejects_repeats(corpus):
    idx = OverlapIndex.build("inc", _records(corpus[:30]), ngram=12)
    assert idx.add(_records(corpus)[30:]) == 30
    again = OverlapIndex.open("inc")
    assert len(again.ids) == 60
    assert again.check(corpus[45]).near_duplicates[0].doc == "doc45"
    assert again.add([("doc3", "x y z")]) == 0  # existing id: skipped, text unchanged
    assert again.text_of("doc3") == corpus[3]
    with pytest.raises(InputError):  # a repeat within the new records is an error
        again.add([("new", "x y z"), ("new", "a b c")])
    with pytest.raises(InputError):
        OverlapIndex.build("inc", _records(corpus[:3]))  # exists, no overwrite


def test_code_index_kind():
    OverlapIndex.build("code", [("a.py", CODE_A), ("b.py", CODE_B)], kind="code", k=8, w=4)
    idx = OverlapIndex.open("code")
    rep = idx.check(UNRELATED + "\n" + CODE_A_RENAMED)
    assert rep.code_clones and rep.code_clones[0].doc == "a.py"
    assert not idx.check(UNRELATED).code_clones


def test_missing_foreign_and_corrupt_indexes(corpus):
    with pytest.raises(UnknownKeyError):
        OverlapIndex.open("nope")
    with pytest.raises(InputError):
        OverlapIndex.open("../escape")
    OverlapIndex.build("c1", _records(corpus[:5]), ngram=12)
    path = indexes_dir() / "c1"
    (path / "VERSION").write_text("some-other-tool 9\n")
    with pytest.raises(CorruptIndexError):
        OverlapIndex.open("c1")
    (path / "VERSION").write_text(store_mod.VERSION_LINE + "\n")
    OverlapIndex.open("c1")
    with open(path / "span_keys.npy", "ab") as fh:
        fh.write(b"extra")
    with pytest.raises(CorruptIndexError):
        OverlapIndex.open("c1")
    foreign = indexes_dir() / "foreign"
    foreign.mkdir()
    (foreign / "data.bin").write_bytes(b"x")
    with pytest.raises(CorruptIndexError):
        OverlapIndex.open("foreign")


def test_killed_build_leaves_old_index_and_is_cleaned(corpus, monkeypatch):
    OverlapIndex.build("safe", _records(corpus[:10]), ngram=12)

    def boom(*a, **k):
        raise KeyboardInterrupt  # a kill in the middle of writing

    with monkeypatch.context() as m, pytest.raises(KeyboardInterrupt):
        m.setattr(store_mod, "write_jsonl", boom)
        OverlapIndex.build("safe", _records(corpus), ngram=12, overwrite=True)
    assert len(OverlapIndex.open("safe").ids) == 10  # the old index is intact
    assert not list(indexes_dir().glob(".safe.tmp-*"))
    # a hard kill leaves a temp folder: never listed or read, removed by the next build
    (indexes_dir() / ".safe.tmp-99999").mkdir()
    assert list_indexes() == ["safe"]
    OverlapIndex.build("safe", _records(corpus), ngram=12, overwrite=True)
    assert not list(indexes_dir().glob(".safe.tmp-*"))
    assert len(OverlapIndex.open("safe").ids) == 60


def test_kill_between_renames_recovers_old(corpus):
    OverlapIndex.build("sw", _records(corpus[:5]), ngram=12)
    path = indexes_dir() / "sw"
    path.rename(indexes_dir() / ".sw.old-123")  # killed after moving the old one aside
    assert len(OverlapIndex.open("sw").ids) == 5


def test_drop(corpus):
    OverlapIndex.build("gone", _records(corpus[:3]), ngram=12)
    assert OverlapIndex.drop("gone") is True
    assert OverlapIndex.drop("gone") is False
    with pytest.raises(UnknownKeyError):
        OverlapIndex.open("gone")


def test_empty_input_and_bad_params():
    with pytest.raises(InputError):
        OverlapIndex.build("e", [])
    with pytest.raises(InputError):
        OverlapIndex.build("e", [("a", "b")], threshold=2.0)
    with pytest.raises(InputError):
        OverlapIndex.build("e", [("a", "b")], kind="image")


def test_sigkill_during_build_never_leaves_a_half_index(corpus, probity_home, tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    OverlapIndex.build("killed", _records(corpus[:7]), ngram=12)
    src = tmp_path / "big.jsonl"
    src.write_text(
        "".join(f'{{"id": "k{i}", "text": "{corpus[i % 60]} {i}"}}\n' for i in range(3000))
    )
    code = (
        "import sys; from probity.cli import main; "
        f"sys.exit(main(['overlap', 'index', 'build', '--name', 'killed', '--input', "
        f"{str(src)!r}, '--ngram', '12', '--force', '--json']))"
    )
    env = {**os.environ, "PROBITY_HOME": str(probity_home), "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen(
        [sys.executable, "-c", code], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    time.sleep(1.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    idx = OverlapIndex.open("killed")  # the old index or the complete new one, never a mix
    assert len(idx.ids) in (7, 3000)
    assert idx.stats().documents == len(idx.ids)
    OverlapIndex.build("killed", _records(corpus), ngram=12, overwrite=True)
    assert not list(indexes_dir().glob(".killed.*"))
