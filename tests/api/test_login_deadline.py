"""Logins have a deadline, and returning employees go first (issue 9).

One bcrypt thread per worker. The deadline is set from one hash timed on this machine just
before, HASH_WAIT = 6 hashes: a flood of 30 new names per worker needs 30 hashes, so some
must get a 500 with Retry-After once the deadline passes, while a returning employee's
verification takes the next free thread, behind at most the one hash running. The margins are
sixfold or more both ways, whatever the speed of the machine.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import aiohttp
import asyncpg
import pytest

from tests.api.conftest import perimeter_env, start_server
from tests.helpers import Server, attempt_login

FLOOD = 60


@pytest.fixture(scope="module")
def busy_server(database_url: str) -> Iterator[Server]:
    env = perimeter_env(database_url, BCRYPT_ROUNDS="13", HASH_THREADS="1", HASH_WAIT_SECONDS="10")
    server = start_server(env)
    try:
        yield server
    finally:
        server.stop()


async def login(
    http: aiohttp.ClientSession, server: Server, username: str, password: str
) -> tuple[int, dict[str, str], dict[str, str]]:
    return await attempt_login(http, username, password, url=server.url)


async def test_a_flood_of_new_names_gets_fast_500s_and_returning_employees_get_in(
    busy_server: Server, http: aiohttp.ClientSession, db: asyncpg.Connection
) -> None:
    returning = ["regular-a", "regular-b"]
    for name in returning:
        assert (await login(http, busy_server, name, "regular-pass"))[0] == 200

    tag = uuid.uuid4().hex[:6]
    flood = [
        asyncio.create_task(login(http, busy_server, f"new-{tag}-{n}", "new-pass"))
        for n in range(FLOOD)
    ]
    await asyncio.sleep(0.5)  # the flood is queued; returning employees arrive behind it
    async with asyncio.timeout(300):  # hang guard
        regulars = await asyncio.gather(
            *(login(http, busy_server, name, "regular-pass") for name in returning)
        )
        flooded = await asyncio.gather(*flood)

    errors = [line for line in busy_server.output().splitlines() if '"ERROR"' in line]
    assert [status for status, _, _ in regulars] == [200] * len(returning), errors[:2]
    busy = [(body, headers) for status, body, headers in flooded if status == 500]
    assert busy, "every new name got a bcrypt thread within the deadline"
    for body, headers in busy:
        assert body == {"errors": "too many logins at once; nothing was changed, try again shortly"}
        assert int(headers["Retry-After"]) >= 1
    created = await db.fetchval("SELECT count(*) FROM users WHERE username LIKE $1", f"new-{tag}-%")
    assert created == FLOOD - len(busy)  # a refused login registered nobody
