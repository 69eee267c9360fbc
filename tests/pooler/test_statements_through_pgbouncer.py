"""Through PgBouncer in transaction mode: each statement runs as sent, on whichever server.

Buying and sending take the same parameter types (bigint, text, text, bigint), so if an
unnamed statement parsed for one client were bound with another client's parameters on a
shared server connection, a purchase could run as a transfer without any error. Here many
clients share four server connections and the ledger must show exactly what each asked for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

import asyncpg

from shop.auth.tokens import Claims
from shop.config import Settings
from shop.db.retry import retry_serializable
from shop.db.write_procedures import Outcome
from shop.repositories import purchases, transfers
from tests.pooler.bouncer import SERVER_CONNECTIONS

EMPLOYEES = 40
ROUNDS = 10


async def test_interleaved_purchases_and_transfers_each_run_as_sent(
    pooled_pool: asyncpg.Pool, db: asyncpg.Connection
) -> None:
    await db.execute(
        "INSERT INTO users (username, password_hash, balance)"
        " SELECT 'e' || g, 'x', 1000 FROM generate_series(1, $1) AS g",
        EMPLOYEES,
    )

    async def employee(n: int) -> None:
        me = Claims(n, f"e{n}")
        for _ in range(ROUNDS):
            async with pooled_pool.acquire() as conn:

                def write(conn: asyncpg.Connection = conn) -> Awaitable[Outcome]:
                    if n % 2:
                        return purchases.purchase(conn, buyer=me, item="pen", price=n)
                    return transfers.transfer(conn, sender=me, receiver_name=f"e{n - 1}", amount=n)

                # SERIALIZABLE may refuse one now and then (40001); the service retries too.
                outcome = await retry_serializable(write, attempts=10)
            assert outcome.applied

    await asyncio.gather(*(employee(n) for n in range(1, EMPLOYEES + 1)))

    assert pooled_pool.get_max_size() > SERVER_CONNECTIONS  # clients share server connections
    bought = await db.fetch("SELECT user_id, count(*), sum(price) FROM purchases GROUP BY 1")
    sent = await db.fetch(
        "SELECT sender_id, receiver_id, count(*), sum(amount) FROM transfers GROUP BY 1, 2"
    )
    odd = range(1, EMPLOYEES + 1, 2)
    even = range(2, EMPLOYEES + 1, 2)
    assert sorted(tuple(r) for r in bought) == [(n, ROUNDS, n * ROUNDS) for n in odd]
    assert sorted(tuple(r) for r in sent) == [(n, n - 1, ROUNDS, n * ROUNDS) for n in even]


async def test_the_app_connects_without_session_settings_and_the_server_keeps_none(
    pooled_pool: asyncpg.Pool, pooled_settings: Settings
) -> None:
    """PgBouncer here ignores no start-up parameter, so any session setting would be refused;
    the limits in force are the server connection's own (PgBouncer's connect_query)."""
    async with pooled_pool.acquire() as conn:
        limits = await conn.fetchrow(
            "SELECT current_setting('lock_timeout') AS lock,"
            " current_setting('statement_timeout') AS statement"
        )
        prepared = await conn.fetchval("SELECT count(*) FROM pg_prepared_statements")
    assert (limits["lock"], limits["statement"]) == ("2500ms", "5s")
    assert prepared == 0
    assert pooled_settings.database_pooler == "transaction"
