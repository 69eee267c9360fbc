"""Admission to the bcrypt threads: returning employees first, and a deadline to start.

The threads of PasswordHasher used to take work first come, first served with no limit, so
behind 300 logins a returning employee waited 15 s. Here each worker hands its bcrypt slots
(one per thread) to waiting verifications (returning employees) before waiting hashes (new
names), and a login that cannot get a slot within `max_wait` seconds gives up with
HashingBusy instead of queueing for ever; nothing has been hashed or changed then.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
from collections import deque
from collections.abc import AsyncIterator

from shop.auth.passwords import PasswordHasher


class Work(enum.IntEnum):
    """Kinds of bcrypt work, in the order slots go to them."""

    VERIFY = 0
    """A returning employee's password."""
    HASH = 1
    """A new name registering."""


class HashingBusy(Exception):  # noqa: N818 - a condition, not a programming error
    """No bcrypt slot became free within the deadline."""

    def __init__(self, waited: float) -> None:
        super().__init__(f"no bcrypt slot within {waited:g} s")
        self.waited = waited


class HashSlots:
    """`slots` permits, handed to waiting VERIFY work before waiting HASH work.

    Runs on one event loop; no locks needed. A waiter that times out leaves the queue, and a
    permit handed to it at that very moment is passed on, so none is ever lost.
    """

    def __init__(self, slots: int, max_wait: float) -> None:
        self._free = slots
        self._max_wait = max_wait
        self._queues: tuple[deque[asyncio.Future[None]], ...] = tuple(deque() for _ in Work)

    @property
    def waiting(self) -> int:
        return sum(len(queue) for queue in self._queues)

    @contextlib.asynccontextmanager
    async def slot(self, work: Work) -> AsyncIterator[None]:
        await self._acquire(work)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, work: Work) -> None:
        if self._free > 0 and not self.waiting:
            self._free -= 1
            return
        granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue = self._queues[work]
        queue.append(granted)
        try:
            async with asyncio.timeout(self._max_wait):
                await asyncio.shield(granted)
        except BaseException as exc:
            if granted.done() and not granted.cancelled():
                self._release()  # handed over as we gave up: pass it on
            else:
                granted.cancel()
                with contextlib.suppress(ValueError):
                    queue.remove(granted)
            if isinstance(exc, TimeoutError):
                raise HashingBusy(self._max_wait) from None
            raise

    def _release(self) -> None:
        for queue in self._queues:
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    waiter.set_result(None)
                    return
        self._free += 1


class AdmittedHasher:
    """PasswordHasher behind HashSlots: same calls, plus HashingBusy after the deadline."""

    def __init__(self, hasher: PasswordHasher, slots: HashSlots) -> None:
        self._hasher = hasher
        self._slots = slots

    async def hash(self, password: str) -> str:
        async with self._slots.slot(Work.HASH):
            return await self._hasher.hash(password)

    async def verify(self, password: str, password_hash: str) -> bool:
        async with self._slots.slot(Work.VERIFY):
            return await self._hasher.verify(password, password_hash)
