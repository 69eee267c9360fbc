"""This worker's copies of /api/info bodies, each valid for one version of its wallet."""

from __future__ import annotations

import time

from shop.observability import metrics


class WalletCache:
    """This worker's last /api/info body per employee, re-sent while PostgreSQL says it holds.

    Most requests are an employee reading a wallet that has not changed since the last read,
    and rendering it was most of PostgreSQL's work for them. The body is kept with the
    wallet's version; the statement compares versions and renders only when they differ, so
    a copy is never served stale, and the round trip stays one either way. A copy is also
    dropped after `MAX_AGE_SECONDS`, far inside the time transaction ids take to wrap around.
    Cleared whole when full, like the verified tokens.
    """

    MAX_AGE_SECONDS = 600.0

    def __init__(self, size: int) -> None:
        self._size = size
        self._held: dict[int, tuple[int, str, float]] = {}
        self._rendered = metrics.Tally(metrics.INFO_BODIES.labels("rendered"))
        self._reused = metrics.Tally(metrics.INFO_BODIES.labels("reused"))

    def held(self, user_id: int) -> tuple[int, str] | None:
        """The version and body kept for this employee, if still young enough to trust."""
        entry = self._held.get(user_id)
        if entry is None:
            return None
        version, body, stored = entry
        if time.monotonic() - stored > self.MAX_AGE_SECONDS:
            del self._held[user_id]
            return None
        return version, body

    def keep(self, user_id: int, version: int, body: str) -> None:
        self._rendered.inc()
        if self._size == 0:
            return
        if len(self._held) >= self._size:
            self._held.clear()
        self._held[user_id] = (version, body, time.monotonic())

    def reused(self) -> None:
        self._reused.inc()
