"""JWT issue and verification: who a bearer token says is calling, in which deployment."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import jwt

from shop.errors import UnauthorizedError

ALGORITHM = "HS256"

CLOCK_SKEW_SECONDS = 60
"""How far in the future an `iat` may lie: the clocks of the workers and hosts that issue and
check tokens may differ that much, no more."""


def deployment_uri(deployment_id: str) -> str:
    """The `iss` and `aud` of this deployment's tokens (migration 0014 stores the id)."""
    return f"urn:shop:deployment:{deployment_id}"


@dataclass(frozen=True, slots=True)
class Claims:
    """Who is calling. Both id and name are checked against the DB by every query."""

    user_id: int
    username: str


VERIFIED_CACHE_SIZE = 20_000
"""Tokens remembered as verified; a few hundred bytes each. Cleared whole when full."""


class TokenCodec:
    """Issue and verify HS256 tokens carrying `sub` (the id), `name`, `iat`, `exp`, `iss`, `aud`.

    `iss` and `aud` name the deployment (its database's id), so a token of another
    deployment is refused here even when both were given the same JWT_SECRET. A token may
    live at most `ttl_seconds` from its `iat`, whatever its `exp` says, and its `iat` may not
    lie in the future: a leaked key cannot mint a token that outlives the configured lifetime.

    A client sends the same token with every request, and checking it (base64, JSON, HMAC,
    claims) is a visible share of a worker's CPU. The same bytes always verify the same
    way, so a verified token is remembered with its expiry, and only the expiry is checked
    again. `clock` is injectable so tests can move time instead of sleeping.
    """

    def __init__(
        self,
        secret: str,
        ttl_seconds: int,
        deployment_id: str,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secret = secret
        self._ttl = ttl_seconds
        self._deployment = deployment_uri(deployment_id)
        self._clock = clock
        self._verified: dict[str, tuple[Claims, float]] = {}

    @property
    def ttl_seconds(self) -> int:
        return self._ttl

    def issue(self, user_id: int, username: str) -> str:
        now = int(self._clock())
        payload = {
            "iss": self._deployment,
            "aud": self._deployment,
            "sub": str(user_id),
            "name": username,
            "iat": now,
            "exp": now + self._ttl,
        }
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
                audience=self._deployment,
                issuer=self._deployment,
                options={
                    "require": ["iss", "aud", "sub", "exp", "iat"],
                    "verify_exp": False,
                    "verify_iat": False,
                },
            )
        except jwt.PyJWTError:
            raise UnauthorizedError("invalid token") from None
        issued, expires = payload["iat"], payload["exp"]
        if not (_number(issued) and _number(expires)):
            raise UnauthorizedError("invalid token")
        if issued > now + CLOCK_SKEW_SECONDS or expires - issued > self._ttl:
            raise UnauthorizedError("invalid token: lifetime beyond what this service issues")
        if now >= expires:
            raise UnauthorizedError("token has expired")
        sub, name = payload["sub"], payload.get("name")
        if not (sub.isascii() and sub.isdigit() and len(sub) <= 18) or not isinstance(name, str):
            raise UnauthorizedError("invalid token")
        return Claims(user_id=int(sub), username=name), float(expires)


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
