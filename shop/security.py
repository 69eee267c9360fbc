"""Password hashing (off the event loop) and JWT issue/verification."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import jwt
from passlib.context import CryptContext

from shop.errors import UnauthorizedError

ALGORITHM = "HS256"


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


@dataclass(frozen=True, slots=True)
class Claims:
    """Who is calling. Both id and name are checked against the DB by every query."""

    user_id: int
    username: str


VERIFIED_CACHE_SIZE = 20_000
"""Tokens remembered as verified; a few hundred bytes each. Cleared whole when full."""


class TokenCodec:
    """Issue and verify HS256 tokens carrying `sub` (the id), `name`, `iat` and `exp`.

    A client sends the same token with every request, and checking it (base64, JSON,
    HMAC, claims) was about a tenth of a worker's CPU under load. The same bytes always
    verify the same way, so a verified token is remembered with its expiry, and only
    the expiry is checked again.
    """

    def __init__(self, secret: str, ttl_seconds: int) -> None:
        self._secret = secret
        self._ttl = ttl_seconds
        self._verified: dict[str, tuple[Claims, float]] = {}

    def issue(self, user_id: int, username: str) -> str:
        now = int(time.time())
        payload = {"sub": str(user_id), "name": username, "iat": now, "exp": now + self._ttl}
        return jwt.encode(payload, self._secret, algorithm=ALGORITHM)

    def decode(self, token: str) -> Claims:
        known = self._verified.get(token)
        if known is not None:
            claims, expires = known
            if time.time() < expires:
                return claims
            del self._verified[token]
        claims, expires = self._verify(token)
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            self._verified.clear()
        self._verified[token] = (claims, expires)
        return claims

    def _verify(self, token: str) -> tuple[Claims, float]:
        try:
            payload = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                options={"require": ["sub", "exp", "iat"]},
            )
        except jwt.ExpiredSignatureError:
            raise UnauthorizedError("token has expired") from None
        except jwt.PyJWTError:
            raise UnauthorizedError("invalid token") from None
        sub, name = payload["sub"], payload.get("name")
        if not (sub.isascii() and sub.isdigit() and len(sub) <= 18) or not isinstance(name, str):
            raise UnauthorizedError("invalid token")
        return Claims(user_id=int(sub), username=name), float(payload["exp"])
