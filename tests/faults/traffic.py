"""Concurrent transfers and purchases whose every outcome can be checked against the ledger.

Each stream owns one key (a sender->receiver pair, or a buyer) and sends its requests one
after another, so the ledger's count for that key must equal the stream's acknowledged
requests, plus at most the ones whose outcome the client cannot know.
"""

from __future__ import annotations

import asyncio
import enum
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import asyncpg

from shop.errors import OutcomeUnknownError, ServiceUnavailableError, TransactionConflictError

UNKNOWN_MESSAGE = OutcomeUnknownError().message
DEFINITE_500 = {ServiceUnavailableError().message, TransactionConflictError().message}


class Outcome(enum.Enum):
    APPLIED = "200"
    REFUSED = "error: nothing changed"
    UNKNOWN = "500: outcome unknown"
    NO_RESPONSE = "no response"


@dataclass(frozen=True)
class Stream:
    """One key's requests: a transfer of `amount` from `token`'s owner, or a purchase."""

    key: str
    token: str
    to_user: str | None = None
    amount: int = 1
    item: str = "pen"


@dataclass
class Traffic:
    """Run streams against `http` (a TestClient or a ClientSession with a base_url)."""

    http: Any
    streams: list[Stream]
    pause_after_failure: float = 0.01
    counts: dict[str, Counter[Outcome]] = field(default_factory=dict)
    log: list[tuple[float, Outcome]] = field(default_factory=list)
    anomalies: list[str] = field(default_factory=list)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._run(stream)) for stream in self.streams]

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks)

    async def until(self, condition: Callable[[Traffic], bool], seconds: float = 30) -> None:
        """Wait until `condition` holds, re-checked after every outcome."""
        async with asyncio.timeout(seconds), self._changed:
            await self._changed.wait_for(lambda: condition(self))

    def total(self, outcome: Outcome, since: float = 0.0) -> int:
        return sum(1 for at, seen in self.log if seen is outcome and at >= since)

    def first(self, outcome: Outcome, since: float) -> float | None:
        return next((at for at, seen in self.log if seen is outcome and at >= since), None)

    async def _run(self, stream: Stream) -> None:
        self.counts[stream.key] = Counter()
        while not self._stop.is_set():
            outcome = await self._one(stream)
            self.counts[stream.key][outcome] += 1
            self.log.append((time.monotonic(), outcome))
            async with self._changed:
                self._changed.notify_all()
            if outcome is not Outcome.APPLIED:
                await asyncio.sleep(self.pause_after_failure)

    async def _one(self, stream: Stream) -> Outcome:
        headers = {"Authorization": f"Bearer {stream.token}"}
        if stream.to_user is not None:
            body = {"toUser": stream.to_user, "amount": stream.amount}
            request = self.http.post("/api/sendCoin", json=body, headers=headers)
        else:
            request = self.http.get(f"/api/buy/{stream.item}", headers=headers)
        try:
            async with request as response:
                text = await response.text()
                status = response.status
                content_type = response.content_type
        except (aiohttp.ClientError, OSError):
            return Outcome.NO_RESPONSE
        if status == 200:
            return Outcome.APPLIED
        if content_type != "application/json" or status not in (400, 500):
            self.anomalies.append(f"{stream.key}: {status} {text[:200]}")
            return Outcome.REFUSED
        message = json.loads(text).get("errors")
        if status == 500 and message == UNKNOWN_MESSAGE:
            return Outcome.UNKNOWN
        if status == 500 and message not in DEFINITE_500:
            self.anomalies.append(f"{stream.key}: unexpected 500 {message!r}")
        return Outcome.REFUSED


LEDGER = """
SELECT 'send ' || s.username || '->' || r.username AS key, count(*) AS n
FROM transfers t JOIN users s ON s.id = t.sender_id JOIN users r ON r.id = t.receiver_id
GROUP BY 1
UNION ALL
SELECT 'buy ' || u.username, count(*) FROM purchases p JOIN users u ON u.id = p.user_id GROUP BY 1
"""

COINS = """
SELECT count(*) * 1000 - (SELECT sum(balance) FROM users)
       - (SELECT coalesce(sum(price), 0) FROM purchases) AS lost
FROM users
"""


def transfer_key(sender: str, receiver: str) -> str:
    return f"send {sender}->{receiver}"


def purchase_key(buyer: str) -> str:
    return f"buy {buyer}"


@dataclass(frozen=True)
class Reconciliation:
    """How the client's view and the ledger compare, key by key."""

    mismatches: list[str]
    unknown: int
    unknown_applied: int


async def reconcile(
    db: asyncpg.Connection, traffic: Traffic, *, unsure: frozenset[Outcome]
) -> Reconciliation:
    """Every APPLIED is in the ledger; of the rest only `unsure` outcomes may be in it."""
    ledger = {row["key"]: row["n"] for row in await db.fetch(LEDGER)}
    mismatches = []
    unknown = applied_unknown = 0
    for key, counts in traffic.counts.items():
        acknowledged = counts[Outcome.APPLIED]
        may_be = sum(counts[outcome] for outcome in unsure)
        found = ledger.get(key, 0)
        if not acknowledged <= found <= acknowledged + may_be:
            mismatches.append(f"{key}: ledger {found}, client {dict(counts)}")
        unknown += may_be
        applied_unknown += max(0, found - acknowledged)
    return Reconciliation(mismatches, unknown, applied_unknown)


async def coins_lost(db: asyncpg.Connection) -> int:
    """Coins given out at registration minus coins held and spent: 0 when none vanished."""
    return await db.fetchval(COINS)
