"""Write-ahead log for forgets, and ``repair`` after a crash.

A forget writes every new file (shard data, checkpoints, manifest) under new names, then the
journal ``forget.journal.json`` (the ledger line it will append, the signed certificate, the
new state, the files it created and the files it makes stale), then appends the ledger line,
writes the certificate, and commits by replacing ``state.json``; only then are stale files
deleted and the journal removed.

After a crash :func:`repair` finishes or undoes the forget:

* ledger line appended -> **roll forward**: the certificate is written, the new state
  committed, stale files deleted (the forget happened, as its certificate says);
* ledger line not appended -> **roll back**: the new files are deleted (nothing happened and
  no certificate exists).

While a journal exists a model refuses new forgets and says to run ``probity unlearn repair``.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

from probity.errors import InputError, TamperedError
from probity.io import write_json_atomic
from probity.unlearning import ledger as L

JOURNAL = "forget.journal.json"


class RepairNeeded(InputError):
    """A forget was interrupted; the model must be repaired before it changes again."""


def commit_state(root: Path, state: dict[str, Any]) -> None:
    """The commit point of a forget: replace ``state.json`` atomically."""
    write_json_atomic(root / "state.json", state)


def write_journal(root: Path, journal: dict[str, Any]) -> None:
    write_json_atomic(root / JOURNAL, journal)


def check_clean(root: Path) -> None:
    """Raise :class:`RepairNeeded` when a forget was interrupted in ``root``."""
    if (root / JOURNAL).exists():
        raise RepairNeeded(
            f"a forget on {str(root)!r} was interrupted before it committed; "
            f"run `probity unlearn repair --model {root}` first"
        )


def finish(root: Path, journal: dict[str, Any]) -> None:
    """Steps after the ledger append: certificate, commit, stale files, journal removal."""
    cert_rel = journal["certificate_file"]
    if not (root / cert_rel).exists():
        write_json_atomic(root / cert_rel, journal["certificate"])
    commit_state(root, journal["new_state"])
    cleanup(root, journal)


def cleanup(root: Path, journal: dict[str, Any]) -> None:
    for rel in journal["stale_files"]:
        with contextlib.suppress(FileNotFoundError):
            (root / rel).unlink()
    (root / JOURNAL).unlink(missing_ok=True)


def repair(root: str | Path) -> dict[str, Any]:
    """Finish or undo an interrupted forget in model directory ``root``.

    Returns ``{"action": "clean" | "rolled_forward" | "rolled_back", "request_id"}``.
    """
    from probity.unlearning.lock import model_lock

    rootp = Path(root)
    if not (rootp / "state.json").exists():
        raise InputError(f"{str(rootp)!r} is not a SISA model directory (no state.json)")
    with model_lock(rootp):
        state = json.loads((rootp / "state.json").read_text("utf-8"))
        entries = L.read_ledger(rootp / "ledger.jsonl")
        last = entries[-1]["hash"] if entries else L.GENESIS
        jp = rootp / JOURNAL
        if not jp.exists():
            if last != state.get("ledger_head"):
                raise TamperedError(
                    f"{rootp}: the ledger head does not match state.json and there is no "
                    "journal to repair from (entries were added or removed by hand)"
                )
            return {"action": "clean", "request_id": None}
        journal = json.loads(jp.read_text("utf-8"))
        rid = journal["entry"].get("request_id")
        if last == journal["entry"]["hash"]:
            missing = [r for r in journal["new_files"] if not (rootp / r).exists()]
            if missing:
                raise TamperedError(
                    f"cannot roll the forget {rid} forward: {len(missing)} of its new files "
                    f"are missing (e.g. {missing[0]})"
                )
            finish(rootp, journal)
            return {"action": "rolled_forward", "request_id": rid}
        if last != state.get("ledger_head"):
            raise TamperedError(f"{rootp}: the ledger matches neither state.json nor the journal")
        for rel in [*journal["new_files"], journal["certificate_file"]]:
            with contextlib.suppress(FileNotFoundError):
                (rootp / rel).unlink()
        jp.unlink()
        return {"action": "rolled_back", "request_id": rid}
