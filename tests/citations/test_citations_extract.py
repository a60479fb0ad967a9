"""Extraction: fields and spans from chat answers, bibliographies and BibTeX."""

from __future__ import annotations

import pytest

from probity.citations import extract_references, parse_reference


def _one(text):
    refs = extract_references(text)
    assert len(refs) == 1, refs
    return refs[0]


def test_quoted_title_by_authors():
    r = _one(
        '- "Deep Residual Learning for Image Recognition" by Kaiming He, Xiangyu Zhang, '
        "Shaoqing Ren and Jian Sun (2016), CVPR."
    )
    assert r.title == "Deep Residual Learning for Image Recognition"
    assert r.authors == ("Kaiming He", "Xiangyu Zhang", "Shaoqing Ren", "Jian Sun")
    assert r.year == 2016 and r.venue == "CVPR"


def test_apa_with_wrapped_line_and_initials():
    text = (
        "[3] Devlin, J., Chang, M.-W., Lee, K., & Toutanova, K. (2019). BERT: Pre-training\n"
        "    of deep bidirectional transformers for language understanding. In NAACL.\n"
    )
    r = _one(text)
    assert r.title == (
        "BERT: Pre-training of deep bidirectional transformers for language understanding"
    )
    assert r.authors[0].startswith("Devlin") and len(r.authors) == 4
    assert r.year == 2019 and r.venue == "NAACL"
    assert text[r.span.start : r.span.end].startswith("Devlin")


def test_dot_separated_style_with_diacritics_and_cjk():
    r = _one(
        "1. José Núñez, 李明 and Zoë Brontë-Smith. Sparse Gradient Flows in Transformers. "
        "In Proceedings of ICML, pages 1-10, 2023."
    )
    assert r.authors == ("José Núñez", "李明", "Zoë Brontë-Smith")
    assert r.title == "Sparse Gradient Flows in Transformers"
    assert r.year == 2023 and "ICML" in r.venue


def test_et_al_and_emphasised_title():
    r = _one("* **Attention Is All You Need** (Vaswani et al., 2017), NeurIPS.")
    assert r.title == "Attention Is All You Need"
    assert r.authors == ("Vaswani",) and r.et_al and r.year == 2017


def test_bibtex_identifiers_and_in_text():
    text = (
        "As Smith et al. (2020) showed, the method works; see arXiv:2301.01234 and "
        "https://doi.org/10.1145/1234567.890.\n\n"
        "@inproceedings{k, title={{Foo} Bar Baz}, author={Doe, John and Roe, Jane},\n"
        "  year=2020, booktitle={ICML}}\n"
    )
    refs = extract_references(text)
    kinds = [r.kind for r in refs]
    assert kinds == ["in_text", "identifier", "identifier", "bibtex"], refs
    assert refs[1].arxiv == "2301.01234" and refs[2].doi == "10.1145/1234567.890"
    assert refs[3].title == "Foo Bar Baz" and refs[3].authors == ("John Doe", "Jane Roe")
    assert refs[0].authors == ("Smith",) and refs[0].et_al and refs[0].year == 2020
    for r in refs:
        assert text[r.span.start : r.span.end] == r.raw


def test_ieee_quoted_title_with_doi():
    r = _one(
        'A. Abbas and P. Swoboda, "Combinatorial optimization for panoptic segmentation," '
        "in Proc. NeurIPS, 2021, doi: 10.5555/3540261.3540271."
    )
    assert r.title == "Combinatorial optimization for panoptic segmentation"
    assert r.authors == ("A. Abbas", "P. Swoboda") and r.year == 2021
    assert r.doi == "10.5555/3540261.3540271"


def test_prose_without_references_gives_nothing():
    assert extract_references("The weather was nice in 2020 and we went to the beach.") == []
    assert extract_references("") == []


@pytest.mark.parametrize("junk", ["@article{", '"""', "((((2020))))", "1. 2. 3.", "@@@{x,}"])
def test_odd_input_never_raises(junk):
    extract_references(junk)
    parse_reference(junk)


def test_two_quoted_references_in_one_sentence():
    text = (
        'Two classics are "Attention Is All You Need" by Vaswani et al. (2017) and "Deep '
        'Residual Learning for Image Recognition" by He et al. (2016), both widely cited.'
    )
    refs = extract_references(text)
    assert [r.title for r in refs] == [
        "Attention Is All You Need",
        "Deep Residual Learning for Image Recognition",
    ]
    assert [r.year for r in refs] == [2017, 2016] and all(r.et_al for r in refs)
    assert refs[0].span.end <= refs[1].span.start
