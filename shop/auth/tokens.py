"""JWT issue and verification: who a bearer token says is calling."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import jwt

from shop.errors import UnauthorizedError

ALGORITHM = "HS256"


@dataclass(frozen=True, slots=True)
class Claims:
    """Who is calling. Both id and name are checked against the DB by every query."""

    user_id: int
    username: str


VERIFIED_CACHE_SIZE = 20_000
"""Tokens remembered as verified; a few hundred bytes each. Cleared whole when full."""


class TokenCodec:
    """Issue and verify HS256 tokens carrying `sub` (the id), `name`, `iat` and `exp`.

    A client sends the same token with every request, and checking it (base64, JSON, HMAC,
    claims) is a visible share of a worker's CPU. The same bytes always verify the same
    way, so a verified token is remembered with its expiry, and only the expiry is checked
    again. `clock` is injectable so tests can move time instead of sleeping.
    """

    def __init__(
        self, secret: str, ttl_seconds: int, *, clock: Callable[[], float] = time.time
    ) -> None:
        self._secret = secret
        self._ttl = ttl_seconds
        self._clock = clock
        self._verified: dict[str, tuple[Claims, float]] = {}

    def issue(self, user_id: int, username: str) -> str:
        now = int(self._clock())
        payload = {"sub": str(user_id), "name": username, "iat": now, "exp": now + self._ttl}
        return jwt.encode(payload, self._secret, algorithm=ALGORITHM)

    def decode(self, token: str) -> Claims:
        known = self._verified.get(token)
        if known is not None:
            claims, expires = known
            if self._clock() < expires:
                return claims
            del self._verified[token]
        claims, expires = self._verify(token)
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            self._verified.clear()
        self._verified[token] = (claims, expires)
        return claims

    def _verify(self, token: str) -> tuple[Claims, float]:
        now = self._clock()
        try:
            payload = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                options={
                    "require": ["sub", "exp", "iat"],
                    "verify_exp": False,
                    "verify_iat": False,
                },
            )
        except jwt.PyJWTError:
            raise UnauthorizedError("invalid token") from None
        expires = payload["exp"]
        if not isinstance(expires, int | float) or isinstance(expires, bool):
            raise UnauthorizedError("invalid token")
        if now >= expires:
            raise UnauthorizedError("token has expired")
        sub, name = payload["sub"], payload.get("name")
        if not (sub.isascii() and sub.isdigit() and len(sub) <= 18) or not isinstance(name, str):
            raise UnauthorizedError("invalid token")
        return Claims(user_id=int(sub), username=name), float(expires)
