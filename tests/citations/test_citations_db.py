"""The verified database: importers, malformed entries, idempotence, resume, lookups."""

from __future__ import annotations

import gzip
import json

import pytest

from probity.citations import CitationDB
from probity.citations._sample import SAMPLE_RECORDS
from probity.errors import CorruptIndexError, InputError

BIB = """% a comment line
@inproceedings{he2016,
  title     = {Deep Residual Learning for Image Recognition},
  author    = {He, Kaiming and Zhang, Xiangyu and Ren, Shaoqing and Sun, Jian},
  booktitle = {CVPR},
  year      = 2016,
  doi       = {10.1109/CVPR.2016.90}
}
@article{broken,
  title = {This entry never closes its braces,
  author = {Nobody, Some},
@article{srivastava2014,
  title = "Dropout: {A} Simple Way to Prevent Neural Networks from Overfitting",
  author = {Nitish Srivastava and Geoffrey E. Hinton and Alex Krizhevsky and Ilya Sutskever
            and Ruslan Salakhutdinov},
  journal = {J. Mach. Learn. Res.}, year = {2014}
}
@misc{notitle, author = {Anon, A.}, year = 2020}
@inproceedings{abadi2016, title={Deep Learning with Differential Privacy},
  author={Abadi, Mart{\\'\\i}n and Chu, Andy}, booktitle={CCS}, year={2016}}
"""


def test_bibtex_import_skips_malformed_entries_and_keeps_the_rest(tmp_path):
    f = tmp_path / "refs.bib"
    f.write_text(BIB, encoding="utf-8")
    with CitationDB(tmp_path / "c.db") as db:
        rep = db.import_file(f)
        assert rep.format == "bibtex"
        assert rep.added == 3 and rep.skipped == 2, rep.rejects
        reasons = " ".join(r["reason"] for r in rep.rejects)
        assert "unbalanced" in reasons and "no title" in reasons
        titles = {r.title for r in db.list(limit=10)}
        assert "Deep Learning with Differential Privacy" in titles
        assert db.by_doi("https://doi.org/10.1109/cvpr.2016.90").title.startswith("Deep Residual")
        rec = db.lookup("deep learning with differential privacy")[0]
        assert rec.authors[0] == "Martín Abadi"


def test_import_is_idempotent_and_resumes(tmp_path):
    f = tmp_path / "recs.jsonl"
    lines = [json.dumps(r) for r in SAMPLE_RECORDS]
    lines.insert(3, "{not json")
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    db = CitationDB(tmp_path / "c.db")
    first = db.import_file(f)
    assert (first.added, first.skipped) == (len(SAMPLE_RECORDS), 1)
    assert first.rejects[0]["position"] == 4
    again = db.import_file(f)
    assert again.added == 0 and again.duplicates == len(SAMPLE_RECORDS)
    assert len(db) == len(SAMPLE_RECORDS)
    # simulate an interrupted import: only 5 entries committed
    db.conn.execute("UPDATE imports SET done=5, finished=0")
    db.conn.commit()
    resumed = db.import_file(f)
    assert resumed.resumed_from == 5 and resumed.read == len(lines) - 5
    assert len(db) == len(SAMPLE_RECORDS)
    db.close()


def test_csl_json_and_dblp_xml(tmp_path):
    csl = [
        {
            "id": "x1",
            "type": "paper-conference",
            "title": "Machine Unlearning",
            "author": [{"given": "Lucas", "family": "Bourtoule"}, {"literal": "Varun C."}],
            "issued": {"date-parts": [[2021, 5]]},
            "container-title": "IEEE S&P",
            "DOI": "10.1109/SP40001.2021.00019",
        },
        "not an object",
    ]
    (tmp_path / "a.json").write_text(json.dumps(csl), encoding="utf-8")
    xml = (
        '<?xml version="1.0"?>\n<!DOCTYPE dblp SYSTEM "dblp.dtd">\n<dblp>\n'
        '<inproceedings key="conf/x/G1"><author>Jos&eacute; G&ouml;mez</author>'
        "<author>Ann Lee 0002</author><title>Streaming &amp; Parsing.</title>"
        "<year>2020</year><booktitle>ICML</booktitle>"
        "<ee>https://doi.org/10.5555/abc</ee></inproceedings>\n"
        '<article key="j/y/1"><author>B</author><year>2019</year></article>\n'
        '<www key="homepages/1"><author>Someone</author><title>Home Page</title></www>\n'
        "</dblp>\n"
    )
    with gzip.open(tmp_path / "dblp.xml.gz", "wt", encoding="utf-8") as fh:
        fh.write(xml)
    with CitationDB(tmp_path / "c.db") as db:
        r1 = db.import_file(tmp_path / "a.json")
        assert (r1.added, r1.skipped) == (1, 1)
        r2 = db.import_file(tmp_path / "dblp.xml.gz")
        assert (r2.format, r2.added, r2.skipped) == ("dblp", 1, 1)
        rec = db.by_doi("10.5555/abc")
        assert rec.title == "Streaming & Parsing" and rec.authors == ("José Gömez", "Ann Lee")
        st = db.stats()
        assert st.records == 2 and st.with_doi == 2 and st.bytes > 0


def test_lookup_finds_near_titles_and_authors(tmp_path):
    with CitationDB(tmp_path / "c.db") as db:
        db.add_records(SAMPLE_RECORDS)
        hits = db.lookup("Deep Residual Learning for Picture Recognition")
        assert hits and hits[0].title == "Deep Residual Learning for Image Recognition"
        by_author = db.lookup(None, ["Jonathan Ho"])
        assert by_author[0].title == "Denoising Diffusion Probabilistic Models"
        assert db.lookup("zzzz qqqq") == []
        assert db.list(query="diffusion")[0].year == 2020


def test_bad_inputs(tmp_path):
    with CitationDB(tmp_path / "c.db") as db:
        with pytest.raises(InputError, match="no such file"):
            db.import_file(tmp_path / "missing.bib")
        (tmp_path / "x.txt").write_text("hi", encoding="utf-8")
        with pytest.raises(InputError, match="format"):
            db.import_file(tmp_path / "x.txt")
        with pytest.raises(InputError, match="unknown citation format"):
            db.import_file(tmp_path / "x.txt", format="ris")
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(CorruptIndexError):
        CitationDB(bad)
    with pytest.raises(InputError, match="no citation database"):
        CitationDB(tmp_path / "absent.db", create=False)
