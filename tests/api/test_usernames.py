"""One name, one look, against a running `shop serve` with 2 workers (issue 9)."""

from __future__ import annotations

import asyncio
import unicodedata
import uuid

import aiohttp
import asyncpg
import pytest
from passlib.context import CryptContext

from shop.auth.usernames import skeleton
from tests.helpers import Server, attempt_login, bearer

LOOKALIKE = "username looks like an existing employee's; choose another"


async def login(
    http: aiohttp.ClientSession, server: Server, username: str, password: str
) -> tuple[int, str]:
    """Status and the token, or the error message."""
    return (await attempt_login(http, username, password, url=server.url)).said


@pytest.mark.parametrize(
    "lookalike",
    [
        "Alice",
        "ALICE",
        "\u0430lice",  # Cyrillic a
        "\uff41lice",  # fullwidth a
        "\U0001d41alice",  # mathematical bold a
        "a\u217cice",  # small roman numeral fifty
    ],
)
async def test_a_name_that_looks_like_an_existing_one_is_refused(
    perimeter_server: Server, http: aiohttp.ClientSession, db: asyncpg.Connection, lookalike: str
) -> None:
    assert (await login(http, perimeter_server, "alice", "alices-password"))[0] == 200

    status, message = await login(http, perimeter_server, lookalike, "impostor")

    assert (status, message) == (400, LOOKALIKE)
    assert await db.fetchval("SELECT count(*) FROM users") == 1


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("alice ", "username: username must not start or end with white space"),
        (" alice", "username: username must not start or end with white space"),
        ("   ", "username: username must not be blank"),
        ("\u3000", "username: username must not be blank"),
        (
            "alice\u200d",
            "username: username must not contain invisible or bidirectional formatting"
            " characters (U+200D)",
        ),
        (
            "\u202ealice",
            "username: username must not contain invisible or bidirectional formatting"
            " characters (U+202E)",
        ),
        ("ali\u2028ce", "username: username must not contain line separator characters (U+2028)"),
        ("ali\ue000ce", "username: username must not contain private-use characters (U+E000)"),
        ("ali\U000e01f0ce", "username: username must not contain unassigned characters (U+E01F0)"),
    ],
)
async def test_a_new_name_with_invisible_or_blank_parts_is_refused(
    perimeter_server: Server,
    http: aiohttp.ClientSession,
    db: asyncpg.Connection,
    name: str,
    message: str,
) -> None:
    assert await login(http, perimeter_server, name, "some-password") == (400, message)
    assert await db.fetchval("SELECT count(*) FROM users") == 0


async def test_composed_and_decomposed_spellings_are_one_employee(
    perimeter_server: Server, http: aiohttp.ClientSession, db: asyncpg.Connection
) -> None:
    composed = unicodedata.normalize("NFC", "Jos\u00e9")
    decomposed = unicodedata.normalize("NFD", composed)
    assert (await login(http, perimeter_server, decomposed, "joses-password"))[0] == 200

    assert (await login(http, perimeter_server, composed, "joses-password"))[0] == 200
    assert await login(http, perimeter_server, composed, "other") == (
        401,
        "wrong username or password",
    )
    assert await db.fetchval("SELECT array_agg(username) FROM users") == [composed]


async def test_sending_to_a_lookalike_of_a_colleague_is_an_unknown_recipient(
    perimeter_server: Server, http: aiohttp.ClientSession
) -> None:
    _, sender = await login(http, perimeter_server, "sender", "senders-password")
    await login(http, perimeter_server, "alice", "alices-password")
    impostor = "\u0430lice"
    assert (await login(http, perimeter_server, impostor, "x"))[0] == 400

    async with http.post(
        perimeter_server.url + "/api/sendCoin",
        json={"toUser": impostor, "amount": 1},
        headers=bearer(sender),
    ) as response:
        assert response.status == 400
        assert await response.json() == {"errors": f"recipient {impostor!r} does not exist"}


async def test_employees_registered_before_the_rules_keep_logging_in(
    perimeter_server: Server, http: aiohttp.ClientSession, db: asyncpg.Connection
) -> None:
    # Names the old code let in: they share a skeleton, or break today's rules.
    legacy = {"bob": "pw-1", "Bob": "pw-2", "b\u043eb": "pw-3", "bob ": "pw-4"}
    hasher = CryptContext(schemes=["bcrypt"], bcrypt__rounds=4)
    for name, password in legacy.items():
        await db.execute(
            "INSERT INTO users (username, password_hash, balance, username_skeleton)"
            " VALUES ($1, $2, 1000, $3)",
            name,
            hasher.hash(password),
            skeleton(name),
        )

    for name, password in legacy.items():
        assert (await login(http, perimeter_server, name, password))[0] == 200, name
    assert await login(http, perimeter_server, "BOB", "pw-5") == (400, LOOKALIKE)


async def test_lookalike_registrations_racing_let_exactly_one_in(
    perimeter_server: Server, http: aiohttp.ClientSession, db: asyncpg.Connection
) -> None:
    base = f"racer{uuid.uuid4().hex[:6]}"
    spellings = [base, base.upper(), base.capitalize(), "\uff52" + base[1:], base.title()]
    results = await asyncio.gather(
        *(login(http, perimeter_server, name, "pw") for name in spellings * 4)
    )

    assert sorted({status for status, _ in results}) == [200, 400]
    assert await db.fetchval("SELECT count(*) FROM users") == 1
