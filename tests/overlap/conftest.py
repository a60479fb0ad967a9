"""Fixtures for the overlap tests (helpers live in overlap_helpers.py)."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from overlap_helpers import make_doc


@pytest.fixture
def corpus() -> list[str]:
    rng = random.Random(7)
    return [make_doc(rng) for _ in range(60)]


@pytest.fixture
def rng() -> random.Random:
    return random.Random(99)
