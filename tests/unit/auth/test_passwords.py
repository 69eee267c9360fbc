"""PasswordHasher: bcrypt off the event loop, in lower-priority threads."""

from __future__ import annotations

import asyncio
import os
import threading

from shop.auth.passwords import PasswordHasher


async def test_password_hashing_runs_in_lower_priority_threads() -> None:
    hasher = PasswordHasher(rounds=4, threads=1, niceness=5)
    try:
        loop = asyncio.get_running_loop()
        own = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        hashed = await hasher.hash("secret")
        thread_nice = await loop.run_in_executor(
            hasher._executor,
            lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id()),
        )
        assert await hasher.verify("secret", hashed)
        assert not await hasher.verify("other", hashed)
    finally:
        hasher.close()
    assert thread_nice == min(own + 5, 19)
