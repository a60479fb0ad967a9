"""Per-key request rates and token budgets (HTTP 429 with ``Retry-After``).

``requests_per_minute`` is a sliding 60-second window; ``tokens_per_day`` counts prompt and
completion tokens (as the backend reports them) per UTC day. Both live in memory: a restart
starts them afresh (the audit log keeps the history).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field


@dataclass
class _Usage:
    requests: deque[float] = field(default_factory=deque)
    day: int = -1
    tokens: int = 0


def _today(u: _Usage, now: float) -> int:
    """The UTC day number of ``now``; resets ``u``'s token count when the day changed."""
    day = int(now // 86400)
    if u.day != day:
        u.day, u.tokens = day, 0
    return day


class Quotas:
    """Checks and counts each key's use against its limits."""

    def __init__(self) -> None:
        self._usage: dict[str, _Usage] = {}
        self._lock = threading.Lock()

    def admit(
        self,
        key_id: str,
        *,
        requests_per_minute: int | None,
        tokens_per_day: int | None,
        now: float | None = None,
    ) -> tuple[str, int] | None:
        """Count one request for ``key_id``; ``(reason, retry_after_s)`` when over a limit."""
        if requests_per_minute is None and tokens_per_day is None:
            return None
        now = time.time() if now is None else now
        with self._lock:
            u = self._usage.setdefault(key_id, _Usage())
            day = _today(u, now)
            if tokens_per_day is not None and u.tokens >= tokens_per_day:
                wait = math.ceil((day + 1) * 86400 - now)
                return f"key {key_id!r} used its {tokens_per_day} tokens for today (UTC)", wait
            if requests_per_minute is not None:
                q = u.requests
                while q and now - q[0] >= 60.0:
                    q.popleft()
                if len(q) >= requests_per_minute:
                    wait = max(1, math.ceil(60.0 - (now - q[0])))
                    return f"key {key_id!r} is over {requests_per_minute} requests per minute", wait
                q.append(now)
        return None

    def spend(self, key_id: str, tokens: int, now: float | None = None) -> None:
        """Add ``tokens`` to today's count for ``key_id``."""
        if tokens <= 0:
            return
        now = time.time() if now is None else now
        with self._lock:
            u = self._usage.setdefault(key_id, _Usage())
            _today(u, now)
            u.tokens += tokens
