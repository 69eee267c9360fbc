"""TokenCodec: issuing, verifying and remembering bearer tokens."""

from __future__ import annotations

import time

import jwt
import pytest

from shop.auth.tokens import Claims, TokenCodec, deployment_uri
from shop.errors import UnauthorizedError

SECRET = "unit-secret-0123456789-abcdefghijklmnop"
HERE = "3f0c2a5e-0000-4000-8000-000000000001"
ELSEWHERE = "3f0c2a5e-0000-4000-8000-000000000002"
BOUND = {"iss": deployment_uri(HERE), "aud": deployment_uri(HERE)}


def test_issued_token_decodes_to_the_same_employee() -> None:
    codec = TokenCodec(SECRET, ttl_seconds=60, deployment_id=HERE)
    assert codec.decode(codec.issue(42, "alice")) == Claims(user_id=42, username="alice")


def test_token_expires_after_its_lifetime() -> None:
    codec = TokenCodec(SECRET, ttl_seconds=60, deployment_id=HERE, clock=lambda: 1_000_000.5)
    payload = jwt.decode(
        codec.issue(1, "a"),
        SECRET,
        algorithms=["HS256"],
        audience=deployment_uri(HERE),
        options={"verify_exp": False},
    )
    assert (payload["iat"], payload["exp"]) == (1_000_000, 1_000_060)


def test_expired_token_is_rejected_as_expired() -> None:
    token = jwt.encode(
        {**BOUND, "sub": "1", "name": "a", "iat": 1, "exp": 2}, SECRET, algorithm="HS256"
    )
    with pytest.raises(UnauthorizedError, match="expired"):
        TokenCodec(SECRET, 60, HERE).decode(token)


def test_token_signed_with_another_key_is_rejected() -> None:
    other = TokenCodec("other-secret-0123456789-abcdefghijkl", 60, HERE).issue(1, "a")
    with pytest.raises(UnauthorizedError, match="invalid token"):
        TokenCodec(SECRET, 60, HERE).decode(other)


@pytest.mark.parametrize("sub", ["abc", "-1", "١٢", "1" * 19, ""])
def test_token_with_odd_subject_is_rejected(sub: str) -> None:
    token = jwt.encode(
        {**BOUND, "sub": sub, "name": "a", "iat": int(time.time()), "exp": int(time.time()) + 60},
        SECRET,
        algorithm="HS256",
    )
    with pytest.raises(UnauthorizedError):
        TokenCodec(SECRET, 60, HERE).decode(token)


def test_token_without_name_is_rejected() -> None:
    token = jwt.encode(
        {**BOUND, "sub": "1", "iat": int(time.time()), "exp": int(time.time()) + 60},
        SECRET,
        algorithm="HS256",
    )
    with pytest.raises(UnauthorizedError):
        TokenCodec(SECRET, 60, HERE).decode(token)


class FakeClock:
    """Time that moves only when the test says so."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_remembered_token_is_still_refused_once_it_expires() -> None:
    clock = FakeClock(1_000_000.0)
    codec = TokenCodec(SECRET, ttl_seconds=60, deployment_id=HERE, clock=clock)
    token = codec.issue(7, "bob")
    assert codec.decode(token) == Claims(user_id=7, username="bob")
    clock.now = 1_000_059.5
    assert codec.decode(token) == Claims(user_id=7, username="bob")  # now from memory

    clock.now = 1_000_060.0  # exp itself

    with pytest.raises(UnauthorizedError, match="expired"):
        codec.decode(token)


def test_only_verified_tokens_are_remembered() -> None:
    codec = TokenCodec(SECRET, ttl_seconds=60, deployment_id=HERE)
    forged = TokenCodec("other-secret-0123456789-abcdefghijkl", 60, HERE).issue(1, "a")

    for _ in range(2):
        with pytest.raises(UnauthorizedError):
            codec.decode(forged)


def test_a_token_of_another_deployment_with_the_same_key_is_rejected() -> None:
    theirs = TokenCodec(SECRET, 60, ELSEWHERE).issue(1, "a")
    with pytest.raises(UnauthorizedError, match="invalid token"):
        TokenCodec(SECRET, 60, HERE).decode(theirs)


def now_claims(**overrides: object) -> dict[str, object]:
    now = int(time.time())
    return {**BOUND, "sub": "1", "name": "a", "iat": now, "exp": now + 60, **overrides}


LIFETIME_CASES = {
    "exp in year 9999": now_claims(exp=253_402_300_799),
    "exp one second beyond the lifetime": now_claims(exp=int(time.time()) + 61),
    "iat missing": {k: v for k, v in now_claims().items() if k != "iat"},
    "iat an hour ahead": now_claims(iat=int(time.time()) + 3600, exp=int(time.time()) + 3660),
    "iat not a number": now_claims(iat="now"),
}


@pytest.mark.parametrize("payload", LIFETIME_CASES.values(), ids=LIFETIME_CASES.keys())
def test_a_token_living_beyond_the_configured_lifetime_is_rejected(
    payload: dict[str, object],
) -> None:
    token = jwt.encode(payload, SECRET, algorithm="HS256")
    with pytest.raises(UnauthorizedError, match="invalid token"):
        TokenCodec(SECRET, 60, HERE).decode(token)


def test_a_token_issued_within_the_clock_skew_is_accepted() -> None:
    """The control for the table above: a little ahead, and exactly the lifetime, pass."""
    soon = int(time.time()) + 30
    token = jwt.encode(now_claims(iat=soon, exp=soon + 60), SECRET, algorithm="HS256")
    assert TokenCodec(SECRET, 60, HERE).decode(token) == Claims(1, "a")


BINDING_CASES = {
    "no iss": {k: v for k, v in now_claims().items() if k != "iss"},
    "no aud": {k: v for k, v in now_claims().items() if k != "aud"},
    "iss of another deployment": now_claims(iss=deployment_uri(ELSEWHERE)),
    "aud of another deployment": now_claims(aud=deployment_uri(ELSEWHERE)),
    "aud a list without this one": now_claims(aud=[deployment_uri(ELSEWHERE)]),
}


@pytest.mark.parametrize("payload", BINDING_CASES.values(), ids=BINDING_CASES.keys())
def test_a_token_not_naming_this_deployment_is_rejected(payload: dict[str, object]) -> None:
    token = jwt.encode(payload, SECRET, algorithm="HS256")
    with pytest.raises(UnauthorizedError, match="invalid token"):
        TokenCodec(SECRET, 60, HERE).decode(token)
