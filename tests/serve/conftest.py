"""Fixtures shared by the gateway tests: the vLLM-like fake upstream (tests/serve/fake_vllm.py)
on a real uvicorn server, reset before and after each test that uses it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fake_vllm import FakeVLLM

from probity.serve import ServerThread


@pytest.fixture(scope="module")
def fake() -> Iterator[tuple[ServerThread, FakeVLLM]]:
    app = FakeVLLM()
    with ServerThread(app) as srv:
        yield srv, app


@pytest.fixture
def up(fake: Any) -> Iterator[tuple[str, FakeVLLM]]:
    """(base URL, the fake) with the fake's modes and records cleared."""
    srv, app = fake
    app.reset()
    yield srv.base_url, app
    app.reset()
