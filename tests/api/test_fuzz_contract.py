"""Schemathesis against a real `shop serve`: whatever it sends, the answers keep the contract.

The schema is the document the service serves at GET /api/openapi.yaml (a test checks they are
the same bytes). Generation is bounded, seeded and derandomized, so a run is repeatable.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from typing import Any

import aiohttp
import asyncpg
import pytest
import requests
import schemathesis
import yaml
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from shop.db import migrate
from shop.services.audit import run_audit
from tests.conftest import TEST_SECRET, create_database, drop_database
from tests.helpers import Server, login
from tests.pooler.bouncer import PgBouncer

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

MAX_EXAMPLES = 100
"""Per operation; about 20 seconds for the four original operations on a quiet machine."""

SEED = 20250204


@dataclass(frozen=True)
class FuzzTarget:
    url: str
    database_url: str
    token: str


async def _login_over_http(url: str, username: str, password: str) -> str:
    async with aiohttp.ClientSession() as http:
        return await login(http, username, password, url=url)


def _give_a_history(url: str, token: str) -> None:
    """A few movements of every kind, so /api/history answers with entries to check."""
    peer = asyncio.run(_login_over_http(url, "fuzz-peer", "peer-password"))
    calls = [
        (token, "POST", "/api/sendCoin", {"toUser": "fuzz-peer", "amount": 5, "message": "hi"}),
        (peer, "POST", "/api/sendCoin", {"toUser": "fuzzer", "amount": 3}),
        (token, "GET", "/api/buy/pen", None),
    ]
    for who, method, path, body in calls:
        response = requests.request(
            method, url + path, json=body, headers={"Authorization": f"Bearer {who}"}, timeout=10
        )
        assert response.status_code == 200, response.text


@pytest.fixture(scope="module")
def fuzz_target(admin_url: str, pgbouncer: PgBouncer | None) -> Iterator[FuzzTarget]:
    """`shop serve` on a database of its own, with one employee whose token the fuzzer uses;
    behind PgBouncer when the suite runs through one."""
    name, url = create_database(admin_url)
    server: Server | None = None
    token = ""
    try:
        migrate.apply(url)
        server = Server(
            {
                "DATABASE_URL": url if pgbouncer is None else pgbouncer.url(url),
                "DATABASE_POOLER": "none" if pgbouncer is None else "transaction",
                "JWT_SECRET": TEST_SECRET,
                "BCRYPT_ROUNDS": "4",
                "LOG_LEVEL": "WARNING",
            }
        )
        asyncio.run(server.wait_ready())
        token = asyncio.run(_login_over_http(server.url, "fuzzer", "fuzzer-password"))
        _give_a_history(server.url, token)
        # An admin, so the fuzzer reaches the operator routes' own answers, not only 403.
        made = subprocess.run(
            [sys.executable, "-m", "shop", "roles", "add", "fuzzer", "admin"],
            env={**os.environ, "DATABASE_URL": url},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert made.returncode == 0, made.stderr
        yield FuzzTarget(server.url, url, token)
    finally:
        if server is not None:
            try:
                code, output = server.stop()
            except subprocess.TimeoutExpired:
                server.process.kill()
                raise
            assert code == 0, output
            for secret in filter(None, (token, TEST_SECRET, "fuzzer-password", "peer-password")):
                assert secret not in output, "a secret reached the service's log"
        drop_database(admin_url, name)


CONTRACT = resources.files("shop").joinpath("openapi.yaml")

# The schema is read when tests are collected, before any server runs: schemathesis' lazy
# loader (`schemathesis.pytest.from_fixture`) fails on pytest 9 (it sets `Node._nodeid`, which
# pytest 9 no longer has). So it reads the document the package ships;
# test_served_contract_is_the_shipped_document proves that it is byte for byte what
# GET /api/openapi.yaml serves.
schema = schemathesis.openapi.from_path(
    str(CONTRACT),
    config=schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {
                "mode": "all",
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",
            },
            "phases": {"stateful": {"enabled": False}},
        }
    ),
)


def test_served_contract_is_the_shipped_document(fuzz_target: FuzzTarget) -> None:
    response = requests.get(fuzz_target.url + "/api/openapi.yaml", timeout=10)

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/yaml")
    assert response.content == CONTRACT.read_bytes()


@schema.parametrize()
def test_every_generated_request_gets_a_documented_answer(
    case: schemathesis.Case, fuzz_target: FuzzTarget
) -> None:
    case.call_and_validate(
        base_url=fuzz_target.url,
        headers={"Authorization": f"Bearer {fuzz_target.token}"},
        checks=CHECKS,
        timeout=30,
    )


def test_books_balance_after_fuzzing(fuzz_target: FuzzTarget) -> None:
    async def audit() -> None:
        conn = await asyncpg.connect(fuzz_target.database_url)
        try:
            report = await run_audit(conn)
        finally:
            await conn.close()
        assert report.ok, report.render()
        assert report.employees >= 1

    asyncio.run(audit())


# What an earlier fuzzing run sent when it got a 500 text/plain: a username with NUL, other
# control characters and surrogate pairs, among unknown fields with odd names and values.
PROTOTYPE_CRASH = (
    r'{"": [-3815, -2455, [5.6324450562488815e+140]],'
    r' "\uda8e\udd82\u00caO<\u008c\u00b6\udb94\udeda": [{"\u00aa\udb82\ude5b": "Vrx"}],'
    r' "\u000b\u0099\t": [{"\udb1c\udf04Y\u00114": true}, [true, 377905, null]],'
    r' "password": "pw",'
    r' "username": "\u001a\u0000\u00d7\udbd9\udcf0\u00acG\udbb1\udd93\u00bd\u0002D\ud92c\udf26"}'
)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(PROTOTYPE_CRASH, id="as found"),
        pytest.param(r'{"username": "\u001a\u0000\u00d7", "password": "pw"}', id="NUL in name"),
        pytest.param(r'{"username": "a\udbd9", "password": "pw"}', id="lone surrogate"),
        pytest.param(r'{"username": "a", "password": "\u0000"}', id="NUL in password"),
    ],
)
def test_hostile_login_bodies_found_by_fuzzing_get_a_json_400(
    fuzz_target: FuzzTarget, body: str
) -> None:
    response = requests.post(
        fuzz_target.url + "/api/auth",
        data=body.encode(),
        headers={"Content-Type": "application/json"},
        timeout=10,
    )

    assert response.status_code == 400, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    assert set(response.json()) == {"errors"}


def skeleton(document: dict[str, Any]) -> dict[str, object]:
    """What the contract fixes: paths, methods, statuses, field names and the error body."""
    schemas = document["components"]["schemas"]
    return {
        "operations": {
            (path, method): sorted(operation["responses"])
            for path, item in document["paths"].items()
            for method, operation in item.items()
        },
        "fields": {name: sorted(schema.get("properties", {})) for name, schema in schemas.items()},
        "required": {name: schema.get("required") for name, schema in schemas.items()},
        "error": schemas["ErrorResponse"],
    }


def test_served_contract_keeps_paths_methods_statuses_and_fields() -> None:
    """The four original operations as the assignment fixed them (plus 409 and 422, which
    only a request with an Idempotency-Key can get), the two the employee web app added
    (GET /api/items and GET /api/history), the operator side's, and nothing else."""
    document = yaml.safe_load(CONTRACT.read_text())
    errors = ["400", "401", "500"]
    keyed = ["400", "401", "409", "422", "500"]
    admin = ["400", "401", "403", "500"]

    assert skeleton(document) == {
        "operations": {
            ("/api/info", "get"): ["200", *errors],
            ("/api/sendCoin", "post"): ["200", *keyed],
            ("/api/buy/{item}", "get"): ["200", *keyed],
            ("/api/auth", "post"): ["200", *errors],
            ("/api/items", "get"): ["200", "400", "500"],
            ("/api/history", "get"): ["200", *errors],
            ("/api/me", "get"): ["200", "401", "500"],
            ("/api/admin/grants", "post"): [
                *("200", "202", "400", "401", "403", "409", "413", "422", "500")
            ],
            ("/api/admin/grants/{id}", "get"): ["200", *admin],
            ("/api/admin/roles", "get"): ["200", "401", "403", "500"],
            ("/api/admin/roles", "post"): ["200", *admin],
            ("/api/admin/roles/{username}/{role}", "delete"): ["200", *admin],
        },
        "fields": {
            "InfoResponse": ["coinHistory", "coins", "inventory"],
            "ErrorResponse": ["errors"],
            "AuthRequest": ["password", "username"],
            "AuthResponse": ["token"],
            "SendCoinRequest": ["amount", "message", "toUser"],
            "ItemsResponse": ["items"],
            "HistoryResponse": ["entries", "next"],
            "HistoryEntry": [
                *("amount", "at", "counterparty", "id", "item", "kind", "message", "reason")
            ],
            "MeResponse": ["roles", "username"],
            "RoleRequest": ["role", "username"],
            "RolesResponse": ["roles"],
            "GrantRequest": ["amount", "reason", "toAll", "toUsers"],
            "Grant": ["amount", "granted", "id", "reason", "recipients", "status"],
        },
        "required": {
            "InfoResponse": ["coins", "inventory", "coinHistory"],
            "ErrorResponse": ["errors"],
            "AuthRequest": ["username", "password"],
            "AuthResponse": ["token"],
            "SendCoinRequest": ["toUser", "amount"],
            "ItemsResponse": ["items"],
            "HistoryResponse": ["entries", "next"],
            "HistoryEntry": ["id", "kind", "counterparty", "item", "amount", "at"],
            "MeResponse": ["username", "roles"],
            "RoleRequest": ["username", "role"],
            "RolesResponse": ["roles"],
            "GrantRequest": ["amount", "reason"],
            "Grant": ["id", "amount", "reason", "status", "recipients", "granted"],
        },
        "error": {
            "type": "object",
            "required": ["errors"],
            "properties": {
                "errors": {
                    "type": "string",
                    "description": "What went wrong, for a person to read.",
                }
            },
        },
    }
