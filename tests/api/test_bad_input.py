"""Every endpoint answers bad input with a 4xx JSON error and changes nothing."""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from shop.app import create_app
from shop.config import Settings
from shop.keys import POOL
from tests.api.conftest import MakeEmployee
from tests.helpers import ShopClient, bearer, expect


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    body: bytes | None = None
    status: int = 400
    authorized: bool = True
    headers: dict[str, str] = field(default_factory=dict)


Auth = functools.partial(Case, "POST", "/api/auth", authorized=False)
Send = functools.partial(Case, "POST", "/api/sendCoin")


def js(value: object) -> bytes:
    return json.dumps(value).encode()


def send(**body: object) -> bytes:
    return js({"toUser": "bob", "amount": 5} | body)


def auth(**body: object) -> bytes:
    return js({"username": "carol", "password": "secret"} | body)


CASES: dict[str, Case] = {
    # POST /api/auth
    "auth: malformed JSON": Auth(b'{"username": "carol",'),
    "auth: empty body": Auth(b""),
    "auth: JSON array": Auth(b'["carol", "secret"]'),
    "auth: JSON string": Auth(b'"carol"'),
    "auth: JSON null": Auth(b"null"),
    "auth: missing password": Auth(js({"username": "carol"})),
    "auth: missing username": Auth(js({"password": "x"})),
    "auth: numeric username": Auth(auth(username=42)),
    "auth: numeric password": Auth(auth(password=1234)),
    "auth: null username": Auth(auth(username=None)),
    "auth: empty username": Auth(auth(username="")),
    "auth: empty password": Auth(auth(password="")),
    "auth: 65-char username": Auth(auth(username="u" * 65)),
    "auth: 73-byte password": Auth(auth(password="p" * 73)),
    "auth: 74 bytes in 37 chars": Auth(auth(password="я" * 37)),
    "auth: NUL in username": Auth(auth(username="car\x00ol")),
    "auth: NUL in password": Auth(auth(password="se\x00cret")),
    "auth: newline in username": Auth(auth(username="car\nol")),
    "auth: extra field": Auth(auth(role="admin")),
    "auth: lone surrogate": Auth(b'{"username": "\\ud800", "password": "x"}'),
    "auth: not UTF-8": Auth(b'{"username": "\xff\xfe"}'),
    "auth: form encoded": Auth(b"username=carol&password=x"),
    "auth: body too large": Auth(auth(username="x" * 20_000), status=413),
    "auth: GET": Case("GET", "/api/auth", status=405, authorized=False),
    "auth: body not in its Content-Encoding": Auth(
        auth(), headers={"Content-Encoding": "gzip", "Content-Type": "application/json"}
    ),
    # POST /api/sendCoin
    "send: amount as string": Send(send(amount="5")),
    "send: amount as float": Send(send(amount=5.0)),
    "send: fractional amount": Send(send(amount=5.5)),
    "send: amount in exponent": Send(b'{"toUser": "bob", "amount": 1e1}'),
    "send: amount true": Send(send(amount=True)),
    "send: amount null": Send(send(amount=None)),
    "send: amount zero": Send(send(amount=0)),
    "send: negative amount": Send(send(amount=-100)),
    "send: amount 2**31": Send(send(amount=2**31)),
    "send: huge amount": Send(send(amount=10**30)),
    "send: amount as list": Send(send(amount=[5])),
    "send: missing amount": Send(js({"toUser": "bob"})),
    "send: missing toUser": Send(js({"amount": 5})),
    "send: numeric toUser": Send(send(toUser=7)),
    "send: empty toUser": Send(send(toUser="")),
    "send: 65-char toUser": Send(send(toUser="b" * 65)),
    "send: snake_case field": Send(js({"to_user": "bob", "amount": 5})),
    "send: extra field": Send(send(fromUser="bob")),
    "send: SQL in toUser": Send(send(toUser="bob'; DROP TABLE users; --")),
    "send: SQL tautology": Send(send(toUser="' OR '1'='1")),
    "send: unknown recipient": Send(send(toUser="nobody")),
    "send: to self": Send(send(toUser="alice")),
    "send: more than balance": Send(send(amount=1001)),
    "send: malformed JSON": Send(b'{"toUser": "bob", "amount": 5'),
    "send: JSON array": Send(b'[{"toUser": "bob", "amount": 5}]'),
    "send: empty body": Send(b""),
    "send: GET": Case("GET", "/api/sendCoin", status=405),
    # GET /api/buy/{item}
    "buy: unknown item": Case("GET", "/api/buy/laptop"),
    "buy: wrong case": Case("GET", "/api/buy/T-Shirt"),
    "buy: empty item": Case("GET", "/api/buy/"),
    "buy: path traversal": Case("GET", "/api/buy/..%2Finfo"),
    "buy: nested path": Case("GET", "/api/buy/pen/pen"),
    "buy: URL-encoded NUL": Case("GET", "/api/buy/pen%00"),
    "buy: trailing space": Case("GET", "/api/buy/pen%20"),
    "buy: encoded newline": Case("GET", "/api/buy/pen%0A"),
    "buy: newline and control characters": Case("GET", "/api/buy/%F0%B6%8C%80%0A%C3%A4%04"),
    "buy: SQL in item": Case("GET", "/api/buy/pen'%20OR%20'1'='1"),
    "buy: POST": Case("POST", "/api/buy/pen", status=405),
    # GET /api/history
    "history: limit zero": Case("GET", "/api/history?limit=0"),
    "history: limit 101": Case("GET", "/api/history?limit=101"),
    "history: limit not a number": Case("GET", "/api/history?limit=ten"),
    "history: negative limit": Case("GET", "/api/history?limit=-1"),
    "history: limit twice": Case("GET", "/api/history?limit=5&limit=6"),
    "history: empty cursor": Case("GET", "/api/history?before="),
    "history: forged cursor": Case("GET", "/api/history?before=aDE6MA"),
    "history: SQL in cursor": Case("GET", "/api/history?before=1%27%20OR%20%271%27=%271"),
    "history: offset instead of cursor": Case("GET", "/api/history?offset=20"),
    "history: no token": Case("GET", "/api/history", status=401, authorized=False),
    "history: POST": Case("POST", "/api/history", status=405),
    # GET /api/items
    "items: unknown parameter": Case("GET", "/api/items?sort=price", authorized=False),
    "items: POST": Case("POST", "/api/items", status=405, authorized=False),
    # elsewhere
    "info: POST": Case("POST", "/api/info", status=405),
    "info: DELETE": Case("DELETE", "/api/info", status=405),
    "unknown endpoint": Case("GET", "/api/admin", status=404),
    "unknown page": Case("GET", "/admin", status=404, authorized=False),
}


async def snapshot(db: asyncpg.Connection) -> list[tuple[object, ...]]:
    rows = await db.fetch(
        """
        SELECT 'users', count(*), sum(balance) FROM users
        UNION ALL SELECT 'transfers', count(*), sum(amount) FROM transfers
        UNION ALL SELECT 'purchases', count(*), sum(price) FROM purchases
        UNION ALL SELECT 'totals', count(*), sum(amount) FROM transfer_totals
        UNION ALL SELECT 'inventory', count(*), sum(quantity) FROM inventory
        """
    )
    return [tuple(r) for r in rows]


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
async def test_bad_input_gets_json_error_and_changes_nothing(
    client: ShopClient, make_employee: MakeEmployee, db: asyncpg.Connection, case: Case
) -> None:
    alice = await make_employee(username="alice")
    await make_employee(username="bob")
    await client.buy(alice.token, "cup")
    before = await snapshot(db)
    headers = (bearer(alice.token) if case.authorized else {}) | case.headers

    response = await client.http.request(
        case.method, case.path, data=case.body, headers=headers, skip_auto_headers={"Content-Type"}
    )

    await expect(response, case.status)
    assert await snapshot(db) == before


async def test_head_request_does_not_buy_anything(
    client: ShopClient, make_employee: MakeEmployee, db: asyncpg.Connection
) -> None:
    employee = await make_employee()

    response = await client.http.head("/api/buy/pen", headers=bearer(employee.token))

    assert response.status == 405
    assert await db.fetchval("SELECT count(*) FROM purchases") == 0


async def test_a_mistake_is_a_400_even_when_every_pooled_connection_is_busy(
    aiohttp_client: Callable[..., Awaitable[TestClient]],
    app_settings: Settings,
    empty_tables: None,
) -> None:
    """An unknown item or a transfer to oneself is refused before a connection is waited for,
    so a busy database never turns a client's mistake into a 500."""
    narrow = app_settings.model_copy(update={"pool_max_size": 2, "pool_acquire_timeout": 1.0})
    shop = ShopClient(await aiohttp_client(create_app(narrow)))
    ann = await shop.auth("ann", "ann-password")
    pool = shop.http.server.app[POOL]
    held = [await pool.acquire() for _ in range(narrow.pool_max_size)]
    try:
        await shop.buy(ann, "laptop", expected_status=400)
        await shop.send_coin(ann, "ann", 1, expected_status=400)
    finally:
        for conn in held:
            await pool.release(conn)
