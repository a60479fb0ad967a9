"""Fixtures shared by the probe tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def one_torch_thread():
    """On a shared 2-core machine torch's default threads make tiny-model calls ~40x slower."""
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
