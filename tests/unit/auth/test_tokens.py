"""TokenCodec: issuing, verifying and remembering bearer tokens."""

from __future__ import annotations

import time

import jwt
import pytest

from shop.auth.tokens import Claims, TokenCodec
from shop.errors import UnauthorizedError

SECRET = "unit-secret-0123456789-abcdefghijklmnop"


def test_issued_token_decodes_to_the_same_employee() -> None:
    codec = TokenCodec(SECRET, ttl_seconds=60)
    assert codec.decode(codec.issue(42, "alice")) == Claims(user_id=42, username="alice")


def test_token_expires_after_its_lifetime() -> None:
    codec = TokenCodec(SECRET, ttl_seconds=60, clock=lambda: 1_000_000.5)
    payload = jwt.decode(
        codec.issue(1, "a"), SECRET, algorithms=["HS256"], options={"verify_exp": False}
    )
    assert (payload["iat"], payload["exp"]) == (1_000_000, 1_000_060)


def test_expired_token_is_rejected_as_expired() -> None:
    token = jwt.encode({"sub": "1", "name": "a", "iat": 1, "exp": 2}, SECRET, algorithm="HS256")
    with pytest.raises(UnauthorizedError, match="expired"):
        TokenCodec(SECRET, 60).decode(token)


def test_token_signed_with_another_key_is_rejected() -> None:
    other = TokenCodec("other-secret-0123456789-abcdefghijkl", 60).issue(1, "a")
    with pytest.raises(UnauthorizedError, match="invalid token"):
        TokenCodec(SECRET, 60).decode(other)


@pytest.mark.parametrize("sub", ["abc", "-1", "١٢", "1" * 19, ""])
def test_token_with_odd_subject_is_rejected(sub: str) -> None:
    token = jwt.encode(
        {"sub": sub, "name": "a", "iat": 1, "exp": int(time.time()) + 60}, SECRET, algorithm="HS256"
    )
    with pytest.raises(UnauthorizedError):
        TokenCodec(SECRET, 60).decode(token)


def test_token_without_name_is_rejected() -> None:
    token = jwt.encode(
        {"sub": "1", "iat": 1, "exp": int(time.time()) + 60}, SECRET, algorithm="HS256"
    )
    with pytest.raises(UnauthorizedError):
        TokenCodec(SECRET, 60).decode(token)


class FakeClock:
    """Time that moves only when the test says so."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_remembered_token_is_still_refused_once_it_expires() -> None:
    clock = FakeClock(1_000_000.0)
    codec = TokenCodec(SECRET, ttl_seconds=60, clock=clock)
    token = codec.issue(7, "bob")
    assert codec.decode(token) == Claims(user_id=7, username="bob")
    clock.now = 1_000_059.5
    assert codec.decode(token) == Claims(user_id=7, username="bob")  # now from memory

    clock.now = 1_000_060.0  # exp itself

    with pytest.raises(UnauthorizedError, match="expired"):
        codec.decode(token)


def test_only_verified_tokens_are_remembered() -> None:
    codec = TokenCodec(SECRET, ttl_seconds=60)
    forged = TokenCodec("other-secret-0123456789-abcdefghijkl", 60).issue(1, "a")

    for _ in range(2):
        with pytest.raises(UnauthorizedError):
            codec.decode(forged)
