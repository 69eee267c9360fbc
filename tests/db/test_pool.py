"""The pool: new direct connections warmed up, none behind a pooler; a fixed pool opens all."""

from __future__ import annotations

from typing import Any

import asyncpg

from shop.config import Settings
from shop.db import pool as pools
from shop.repositories import wallet
from shop.repositories.warm_up import warm_up

WALLET_READ_PREPARED = "SELECT count(*) FROM pg_prepared_statements WHERE statement = $1"


def straight_to(database_url: str, app_settings: Settings, **update: Any) -> Settings:
    """The suite's settings on its own database, without PgBouncer unless `update` says so."""
    return app_settings.model_copy(
        update={"database_url": database_url, "database_pooler": "none", **update}
    )


async def warmed(conn: asyncpg.Connection) -> bool:
    return await conn.fetchval(WALLET_READ_PREPARED, wallet.WALLET_JSON) == 1


async def test_a_direct_pool_warms_each_new_connection(
    app_settings: Settings, database_url: str
) -> None:
    direct = straight_to(database_url, app_settings, pool_min_size=0)
    async with pools.opened(direct, init=warm_up) as pool, pool.acquire() as conn:
        assert await warmed(conn)


async def test_a_pool_behind_a_transaction_pooler_does_not_warm(
    app_settings: Settings, database_url: str
) -> None:
    pooled = straight_to(database_url, app_settings, pool_min_size=0, database_pooler="transaction")
    async with pools.opened(pooled, init=warm_up) as pool, pool.acquire() as conn:
        assert not await warmed(conn)


async def test_a_fixed_pool_opens_and_warms_every_connection_at_start(
    app_settings: Settings, database_url: str
) -> None:
    fixed = straight_to(database_url, app_settings, pool_min_size=None, pool_max_size=3)
    async with pools.opened(fixed, init=warm_up) as pool:
        assert (pool.get_size(), pool.get_idle_size()) == (3, 3)
        conns = [await pool.acquire() for _ in range(3)]
        try:
            assert [await warmed(conn) for conn in conns] == [True, True, True]
        finally:
            for conn in conns:
                await pool.release(conn)
