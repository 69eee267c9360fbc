"""Password hashing with bcrypt, always in worker threads, never on the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from passlib.context import CryptContext


def _lower_priority(niceness: int) -> Callable[[], None]:
    def lower() -> None:
        with contextlib.suppress(OSError, AttributeError):  # not every platform has it
            tid = threading.get_native_id()
            os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + niceness)

    return lower


class PasswordHasher:
    """bcrypt through passlib, run in a small pool of low-priority threads.

    bcrypt releases the GIL, so hashing in threads keeps the event loop serving while it
    runs. The pool is bounded, so a login storm queues instead of taking every core, and its
    threads run at a lower scheduling priority (Linux nice is per thread), so when the CPU is
    contended the event loops and PostgreSQL go first: logins slow down, other requests don't.
    """

    def __init__(self, rounds: int, threads: int, niceness: int = 0) -> None:
        self._context = CryptContext(schemes=["bcrypt"], bcrypt__rounds=rounds)
        self._executor = ThreadPoolExecutor(
            max_workers=threads,
            thread_name_prefix="bcrypt",
            initializer=_lower_priority(niceness) if niceness else None,
        )

    async def hash(self, password: str) -> str:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._context.hash, password)

    async def verify(self, password: str, password_hash: str) -> bool:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, self._context.verify, password, password_hash
        )

    def close(self) -> None:
        self._executor.shutdown(wait=True)
