"""User stages for the curation tests (imported by path, as a user's own module would be)."""

from __future__ import annotations

import os


def drop_short(record: dict) -> dict | None:
    return record if len(record["text"].split()) >= 3 else None


def crash_once(record: dict) -> dict:
    flag = os.environ.get("CURATE_CRASH_ON")
    if flag and record["text"].startswith(flag):
        raise RuntimeError("simulated crash")
    return record
