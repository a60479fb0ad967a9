"""Black-box: one test per bug the outside testers found (issue 15)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from citation_papers import RECORDS

from probity.citations import CitationDB, extract_references, verify_references
from probity.cli import main
from probity.errors import InputError


@pytest.fixture()
def db(papers_db):
    return papers_db


def _one(text: str):
    refs = [r for r in extract_references(text) if r.kind != "in_text"]
    assert len(refs) == 1, [r.to_dict() for r in refs]
    return refs[0]


def test_acl_neurips_style_title_is_not_the_year(db):
    text = (
        "David Chiang, Peter Cholak and Anand Pillay. 2023. Tighter Bounds on the "
        "Expressivity of Transformer Encoders. In ICML."
    )
    ref = _one(text)
    assert ref.title == "Tighter Bounds on the Expressivity of Transformer Encoders"
    assert ref.year == 2023 and ref.authors == ("David Chiang", "Peter Cholak", "Anand Pillay")
    assert verify_references(text, db)[0].verdict == "verified"


def test_plain_list_one_per_line_is_three_references(db):
    text = (
        "Kaiming He, Xiangyu Zhang, Shaoqing Ren, and Jian Sun. 2016. Deep Residual Learning "
        "for Image Recognition. In CVPR.\n"
        "Jonathan Ho, Ajay Jain, and Pieter Abbeel. 2020. Denoising Diffusion Probabilistic "
        "Models. In NeurIPS.\n"
        "Jonathan Ho and Pieter Abbeel. 2021. Latent Consistency Bridges for Video Diffusion. "
        "In ICLR.\n"
    )
    verdicts = verify_references(text, db)
    assert [v.verdict for v in verdicts] == ["verified", "verified", "not_found"]


@pytest.mark.parametrize(
    "text",
    [
        "F. Pajares (1996). Stereo Vision Matching through a Hopfield Neural Network. "
        "Pattern Recognition Letters.",
        "F. Pajares (1996). Stereo Vision Matching through a Hopfield Neural Network.",
        "Pajares, F. (1996). Stereo vision matching through a Hopfield neural network.",
    ],
)
def test_single_author_initials_first_and_no_venue(text, db):
    ref = _one(text)
    assert ref.title and ref.title.lower().startswith("stereo vision matching")
    assert verify_references(text, db)[0].verdict == "verified"
    fake = text.replace("Hopfield Neural Network", "Recurrent Spiking Lattice").replace(
        "Hopfield neural network", "recurrent spiking lattice"
    )
    assert verify_references(fake, db)[0].verdict == "not_found"


def test_prose_words_are_not_authors(db):
    ref = _one(
        'As Hanushek and Rivkin (2012), "The Distribution of Teacher Quality and '
        'Implications for Policy," Annual Review of Economics, put it, quality varies.'
    )
    assert [a.split()[-1] for a in ref.authors] == ["Hanushek", "Rivkin"]
    assert ref.year == 2012
    ref2 = _one(
        "On expressivity, see *Tighter Bounds on the Expressivity of Transformer Encoders* "
        "(Chiang et al., 2023, ICML)."
    )
    assert [a.split()[-1] for a in ref2.authors] == ["Chiang"] and ref2.et_al
    assert ref2.title == "Tighter Bounds on the Expressivity of Transformer Encoders"
    assert verify_references([ref2], db)[0].verdict == "verified"


def test_in_text_mention_is_linked_to_its_entry(db):
    text = (
        "Encoders are weaker than decoders (Chiang et al., 2023), as Chiang and Cholak [1] "
        "show.\n\nReferences\n[1] David Chiang, Peter Cholak and Anand Pillay. 2023. Tighter "
        "Bounds on the Expressivity of Transformer Encoders. In ICML.\n"
    )
    verdicts = verify_references(text, db)
    in_text = [v for v in verdicts if v.reference.kind == "in_text"]
    assert len(in_text) == 2
    for v in in_text:
        entry = verdicts[v.details["linked_reference"]]
        assert entry.reference.kind == "reference" and entry.reference.label == "1"
        assert v.verdict == "verified"
    # an in-text mention with no entry in the list is checked on its own fields: incomplete
    lone = verify_references("As shown by Smith et al. (2019), this holds.", db)
    assert [v.verdict for v in lone] == ["incomplete"]


BIB = r"""@string{tmlr = "Transactions on Machine Learning Research"}
@article{kirsch2023,
  author = {Kirsch, Andreas},
  title = {Black-Box Batch Active Learning for Regression},
  journal = tmlr,
  year = {2023}
}
@inproceedings{broken,
  author = {Nobody, A.},
  title = {Unclosed entry
@article{lstm,
  author = {Hochreiter, Sepp and Schmidhuber, J{\"u}rgen},
  title = {Long Short-Term Memory},
  journal = {Neural Computation},
  year = 1997,
}
"""


def test_bibtex_single_author_string_macros_and_malformed(tmp_path, capsys):
    bib = tmp_path / "refs.bib"
    bib.write_text(BIB, encoding="utf-8")
    dbp = tmp_path / "c.db"
    code = main(["cite", "db", "import", str(bib), "--db", str(dbp), "--json"])
    out = json.loads(capsys.readouterr().out)["imports"][0]
    assert out["added"] == 2 and out["skipped"] >= 1 and code != 0
    d = CitationDB(dbp)
    recs = {r.title: r for r in d.list(limit=10)}
    d.close()
    kirsch = recs["Black-Box Batch Active Learning for Regression"]
    assert list(kirsch.authors) == ["Andreas Kirsch"]
    assert kirsch.venue == "Transactions on Machine Learning Research"
    assert list(recs["Long Short-Term Memory"].authors)[1] == "Jürgen Schmidhuber"
    # verify --bib: the same parser, the malformed entry is reported with a non-zero exit
    code = main(["cite", "verify", "--bib", str(bib), "--db", str(dbp), "--json"])
    res = capsys.readouterr()
    out = json.loads(res.out)
    assert code != 0 and "broken" in res.err
    refs = out["references"]
    assert refs[0]["reference"]["authors"] == ["Andreas Kirsch"]
    assert [r["verdict"] for r in refs] == ["verified", "verified"]


def test_thousand_style_marker_is_not_an_author(db):
    ref = _one(
        "[1000] Jonathan Ho, Ajay Jain, and Pieter Abbeel. 2020. Denoising Diffusion "
        "Probabilistic Models. In NeurIPS."
    )
    assert ref.authors[0] == "Jonathan Ho"


def test_empty_database_given_explicitly_is_not_replaced_by_home(tmp_path, db):
    # the home database has the records; an explicitly given empty one must not fall back to it
    home = CitationDB()
    home.add_records(RECORDS, source="home")
    home.close()
    empty = CitationDB(tmp_path / "empty.db")
    with pytest.raises(InputError, match="empty"):
        verify_references(
            "David Chiang, Peter Cholak and Anand Pillay. 2023. Tighter Bounds "
            "on the Expressivity of Transformer Encoders. In ICML.",
            empty,
        )
    empty.close()


def test_correct_doi_with_unknown_prefix_on_a_record_without_doi(db):
    text = (
        "David Chiang, Peter Cholak and Anand Pillay. 2023. Tighter Bounds on the "
        "Expressivity of Transformer Encoders. In ICML. https://doi.org/10.5555/3618408.3618655"
    )
    v = verify_references(text, db)[0]
    assert v.verdict == "verified", v.evidence


def _run(args, stdin=None):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run(
        [sys.executable, "-m", "probity", *args],
        input=stdin,
        capture_output=True,
        env=env,
        timeout=60,
    )


def test_invalid_utf8_one_rule_with_a_warning(tmp_path):
    dbp = tmp_path / "c.db"
    recs = tmp_path / "r.jsonl"
    lines = [json.dumps(r, ensure_ascii=False) for r in RECORDS]
    recs.write_bytes("\n".join(lines).encode() + b"\n" + b'{"title": "Bad \xff bytes"}\n')
    r = _run(["cite", "db", "import", str(recs), "--db", str(dbp)])
    assert r.returncode == 0 and b"invalid UTF-8" in r.stderr, r.stderr
    answer = (
        "Jonathan Ho, Ajay Jain, and Pieter Abbeel. 2020. Denoising Diffusion Probabilistic "
        "Models. In NeurIPS. \xff\n"
    ).encode("latin-1")
    f = tmp_path / "a.txt"
    f.write_bytes(answer)
    bib = tmp_path / "a.bib"
    bib.write_bytes(
        b"@article{a, title={Long Short-Term Memory}, author={Hochreiter, Sepp and "
        b"Schmidhuber, J\xfcrgen}, journal={Neural Computation}, year={1997}}\n"
    )
    for args, stdin in (
        (["--file", str(f)], None),
        (["-"], answer),
        (["--bib", str(bib)], None),
    ):
        r = _run(["cite", "verify", *args, "--db", str(dbp), "--json"], stdin)
        assert r.returncode == 0, r.stderr
        assert b"invalid UTF-8" in r.stderr and b"Traceback" not in r.stderr
        assert json.loads(r.stdout)["references"][0]["verdict"] == "verified"


DANUBE = {
    "danube.md": "The Danube is Europe's second-longest river, about 2,850 kilometres long. It "
    "rises in the Black Forest in Germany and flows into the Black Sea through a delta in "
    "Romania and Ukraine. Vienna, Bratislava, Budapest and Belgrade lie on its banks.",
    "rhine.md": "The Rhine rises in the Swiss Alps and flows into the North Sea in the "
    "Netherlands. It is about 1,230 kilometres long and passes Basel, Cologne and Rotterdam.",
}


@pytest.mark.parametrize(
    ("sentence", "status"),
    [
        ("The Danube empties into the North Sea.", "contradicted"),
        ("The Danube is about 1,230 kilometres long.", "contradicted"),
        ("The Rhine rises in the Black Forest in Germany.", "contradicted"),
        ("The Danube starts in Germany's Black Forest and reaches the Black Sea.", "supported"),
        ("Budapest and Vienna are cities on the banks of the Danube.", "supported"),
        ("The Rhine flows into the North Sea in the Netherlands.", "supported"),
        ("The Danube is home to a famous opera festival held every July.", "no_evidence"),
    ],
)
def test_grounding_contradictions_count_against_support(sentence, status):
    from probity.citations import ground

    got = ground(sentence, DANUBE).sentences[0]
    assert got.status == status, (got.status, got.support, got.evidence)


def test_fail_on_exit_code_and_corrected_bibtex_round_trip(tmp_path, capsys):
    from probity.citations._sample import SAMPLE_ANSWER

    dbp = tmp_path / "c.db"
    d = CitationDB(dbp)
    d.add_records(RECORDS, source="test")
    d.close()
    answer = tmp_path / "a.txt"
    answer.write_text(SAMPLE_ANSWER, encoding="utf-8")
    base = ["cite", "verify", "--file", str(answer), "--db", str(dbp)]
    assert main([*base, "--fail-on", "year_mismatch"]) == 0
    capsys.readouterr()
    assert main([*base, "--fail-on", "not_found,author_mismatch"]) == 3
    assert "not_found" in capsys.readouterr().err
    assert main([*base, "--fail-on", "problems", "--json"]) == 3
    assert json.loads(capsys.readouterr().out)["summary"]["not_found"] == 2
    assert main([*base, "--fail-on", "nonsense"]) == 2
    capsys.readouterr()
    # a wrong year and a truncated author list come back with the database's fields
    wrong = tmp_path / "wrong.bib"
    wrong.write_text(
        "@inproceedings{ho, title={Denoising Diffusion Probabilistic Models},\n"
        " author={Ho, Jonathan and Jain, Ajay}, year={2019}, booktitle={NeurIPS}}\n"
        "@article{fake, title={Quantum Gradient Flows for Sparse Transformers},\n"
        " author={Keller, Martin}, year={2021}, journal={NeurIPS}}\n",
        encoding="utf-8",
    )
    out_bib = tmp_path / "fixed.bib"
    assert (
        main(["cite", "verify", "--bib", str(wrong), "--db", str(dbp), "--format", "bibtex"]) == 0
    )
    out_bib.write_text(capsys.readouterr().out, encoding="utf-8")
    fixed = out_bib.read_text(encoding="utf-8")
    assert "@inproceedings{ho," in fixed and "2020" in fixed and "Pieter Abbeel" in fixed
    assert "Quantum Gradient Flows" in fixed.split("@comment", 1)[1]  # left out, named
    # the corrected file, used fresh in a new process, verifies clean
    r = _run(["cite", "verify", "--bib", str(out_bib), "--db", str(dbp), "--json"])
    assert r.returncode == 0, r.stderr
    assert [x["verdict"] for x in json.loads(r.stdout)["references"]] == ["verified"]


@pytest.mark.parametrize("head", ["References", "## References", "**Bibliography**", "Sources:"])
def test_reference_list_heading_is_not_part_of_the_first_entry(head, db):
    text = (
        "Encoders are weaker (Chiang et al., 2023).\n\n"
        f"{head}\n"
        "David Chiang, Peter Cholak and Anand Pillay. 2023. Tighter Bounds on the "
        "Expressivity of Transformer Encoders. In ICML.\n"
    )
    entry = _one(text)
    assert entry.authors[0] == "David Chiang"
    assert [v.verdict for v in verify_references(text, db)] == ["verified", "verified"]


def test_confidence_is_fitted_on_user_labels_and_used_fresh(tmp_path):
    """The confidence a user sorts by comes from labelled held-out cases: a lab whose
    bibliographies list first authors only (no "et al.") and call them genuine fits on half of
    its papers; on the other half, in a freshly opened database, author_mismatch verdicts then
    carry low confidence while verified ones stay high."""
    from probity.citations import Reference, calibrate

    path = tmp_path / "lab.db"
    d = CitationDB(path)
    d.add_records(RECORDS, source="lab")
    multi = [r for r in RECORDS if len(r["authors"]) >= 3]
    fit, held_out = multi[::2], multi[1::2]

    def cases(recs):
        out = []
        for r in recs:
            full = Reference(
                title=str(r["title"]), authors=tuple(r["authors"]), year=int(r["year"])
            )
            first_only = Reference(
                title=str(r["title"]), authors=tuple(r["authors"][:1]), year=int(r["year"])
            )
            out += [(full, True), (first_only, True)]
        return out

    before = [v.confidence for v in verify_references([c for c, _ in cases(held_out)], d)]
    calibrate(d, cases=cases(fit))
    d.close()
    fresh = CitationDB(path)
    after = verify_references([c for c, _ in cases(held_out)], fresh)
    fresh.close()
    mismatch = [v.confidence for v in after if v.verdict == "author_mismatch"]
    verified = [v.confidence for v in after if v.verdict == "verified"]
    assert mismatch and verified
    assert max(mismatch) < 0.5 < min(verified)
    assert max(mismatch) < min(
        b for b, v in zip(before, after, strict=True) if v.verdict == "author_mismatch"
    )


def test_unknown_doi_prefix_counts_only_on_a_database_of_real_size(tmp_path):
    text = (
        "David Chiang, Peter Cholak and Anand Pillay. 2023. Tighter Bounds on the "
        "Expressivity of Transformer Encoders. In ICML. https://doi.org/10.66660/jour/5125162"
    )
    big = CitationDB(tmp_path / "big.db")
    filler = [
        {
            "title": f"Filler paper number {i} on topic {i}",
            "authors": [f"A. Author{i}"],
            "year": 2000 + i % 20,
            "venue": "Journal of Fillers",
            "doi": f"10.{2000 + i}/f.{i}",
        }
        for i in range(30)
    ]
    big.add_records([*RECORDS, *filler], source="big")
    v = verify_references(text, big)[0]
    big.close()
    assert v.verdict == "bad_identifier" and "prefix 10.66660" in v.evidence[0]
