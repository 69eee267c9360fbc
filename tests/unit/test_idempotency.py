"""The Idempotency-Key header's rules and the request fingerprint."""

from __future__ import annotations

import pytest

from shop.errors import InvalidIdempotencyKeyError
from shop.idempotency import fingerprint, parse_key


@pytest.mark.parametrize("key", ["a", "x" * 255, "!~", "550e8400-e29b-41d4-a716-446655440000"])
def test_printable_ascii_keys_of_1_to_255_characters_are_taken_as_they_are(key: str) -> None:
    assert parse_key([key]) == key


def test_no_header_is_no_key() -> None:
    assert parse_key([]) is None


@pytest.mark.parametrize(
    "values",
    [[""], [" "], ["a b"], ["tab\there"], ["\x7f"], ["\x00"], ["x" * 256], ["ключ"], ["a", "a"]],
    ids=["empty", "space", "inner-space", "tab", "del", "nul", "too-long", "non-ascii", "twice"],
)
def test_anything_else_is_refused(values: list[str]) -> None:
    with pytest.raises(InvalidIdempotencyKeyError):
        parse_key(values)


def test_the_fingerprint_tells_requests_apart_but_not_the_order_of_their_fields() -> None:
    one = fingerprint("sendCoin", {"toUser": "ben", "amount": 7})
    assert one == fingerprint("sendCoin", {"amount": 7, "toUser": "ben"})
    assert one != fingerprint("sendCoin", {"toUser": "ben", "amount": 8})
    assert one != fingerprint("buy", {"toUser": "ben", "amount": 7})
