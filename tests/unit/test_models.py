from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from shop.http.responses import describe_validation_error
from shop.models import (
    MAX_AMOUNT,
    AuthRequest,
    HistoryQuery,
    ItemsQuery,
    SendCoinRequest,
    decode_cursor,
    encode_cursor,
)


@pytest.mark.parametrize(
    ("username", "password"),
    [("a", "b"), ("u" * 64, "p" * 72), ("имя", "я" * 36), ("a b", "🔑" * 18)],
)
def test_valid_credentials_are_accepted(username: str, password: str) -> None:
    assert AuthRequest(username=username, password=password).username == username


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [
        ("", "x", "username: string should have at least 1 character"),
        ("u" * 65, "x", "username: string should have at most 64 characters"),
        ("tab\there", "x", "username: must not contain control characters"),
        ("ok", "", "password: string should have at least 1 character"),
        ("ok", "p" * 73, "password: must be at most 72 bytes in UTF-8"),
        ("ok", "🔑" * 19, "password: must be at most 72 bytes in UTF-8"),
        ("ok", "a\x00b", "password: must not contain NUL characters"),
    ],
)
def test_invalid_credentials_are_described(username: str, password: str, message: str) -> None:
    with pytest.raises(ValidationError) as raised:
        AuthRequest(username=username, password=password)
    assert describe_validation_error(raised.value) == message


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"toUser": "bob", "amount": "5"}', "amount: input should be a valid integer"),
        (b'{"toUser": "bob", "amount": 0}', "amount: input should be greater than or equal to 1"),
        (
            b'{"toUser": "bob", "amount": 2147483648}',
            f"amount: input should be less than or equal to {MAX_AMOUNT}",
        ),
        (b'{"toUser": "bob"}', "amount: field required"),
        (b'{"toUser": "bob", "amount": 1, "x": 1}', "x: extra inputs are not permitted"),
        (b"{", "request body is not valid JSON"),
        (b"[]", "request body must be a JSON object"),
    ],
)
def test_send_coin_body_errors_are_described(body: bytes, message: str) -> None:
    with pytest.raises(ValidationError) as raised:
        SendCoinRequest.model_validate_json(body)
    assert describe_validation_error(raised.value) == message


def test_send_coin_body_uses_contract_field_names() -> None:
    request = SendCoinRequest.model_validate_json(b'{"toUser": "bob", "amount": 3}')
    assert (request.to_user, request.amount) == ("bob", 3)


@pytest.mark.parametrize("seq", [1, 7, 123_456_789, 2**63 - 1])
def test_a_cursor_gives_back_the_position_it_was_made_from(seq: int) -> None:
    cursor = encode_cursor(seq)

    assert decode_cursor(cursor) == seq
    assert re.fullmatch(r"[A-Za-z0-9_-]+", cursor)  # URL-safe as it is, no padding


def test_history_query_defaults_to_the_first_page_of_20() -> None:
    query = HistoryQuery.from_query([])

    assert (query.limit, query.before) == (20, None)


def test_history_query_reads_limit_and_cursor_from_the_query_string() -> None:
    query = HistoryQuery.from_query([("limit", "100"), ("before", encode_cursor(42))])

    assert (query.limit, query.before) == (100, 42)


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        ([("limit", "0")], "limit: must be a whole number from 1 to 100"),
        ([("limit", "1e1")], "limit: must be a whole number from 1 to 100"),
        ([("limit", "5"), ("limit", "5")], "limit: must be given at most once"),
        ([("before", "")], "before: not a cursor this API gave out"),
        ([("before", encode_cursor(5) + "A")], "before: not a cursor this API gave out"),
        ([("page", "2")], "page: extra inputs are not permitted"),
    ],
)
def test_bad_history_queries_are_described(pairs: list[tuple[str, str]], message: str) -> None:
    with pytest.raises(ValidationError) as raised:
        HistoryQuery.from_query(pairs)

    assert describe_validation_error(raised.value).startswith(message)


def test_items_query_takes_no_parameters() -> None:
    ItemsQuery.from_query([])
    with pytest.raises(ValidationError):
        ItemsQuery.from_query([("limit", "5")])
