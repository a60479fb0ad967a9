"""Fixtures of the citation tests."""

from __future__ import annotations

import pytest
from citation_papers import RECORDS

from probity.citations import CitationDB


@pytest.fixture()
def papers_db(tmp_path):
    """A database of the black-box test papers (tests/citations/citation_papers.py)."""
    d = CitationDB(tmp_path / "papers.db")
    d.add_records(RECORDS, source="test")
    yield d
    d.close()
