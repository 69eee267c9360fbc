"""A new connection: the wallet read is prepared on it, nothing changes; a fixed pool opens all."""

from __future__ import annotations

import asyncpg

from shop.config import Settings
from shop.db import pool as pools
from shop.repositories import wallet
from shop.repositories.warm_up import warm_up

WALLET_READ_PREPARED = "SELECT count(*) FROM pg_prepared_statements WHERE statement = $1"


async def test_warm_up_prepares_the_wallet_read_and_leaves_the_connection_idle(
    db: asyncpg.Connection,
) -> None:
    await db.execute("INSERT INTO users (username, password_hash, balance) VALUES ('ann', 'x', 7)")
    assert await db.fetchval(WALLET_READ_PREPARED, wallet.WALLET_JSON) == 0

    await warm_up(db)

    assert await db.fetchval(WALLET_READ_PREPARED, wallet.WALLET_JSON) == 1
    assert not db.is_in_transaction()
    assert await db.fetch("SELECT username, balance FROM users") == [("ann", 7)]


async def test_a_direct_pool_warms_each_new_connection(
    app_settings: Settings, database_url: str
) -> None:
    direct = app_settings.model_copy(
        update={"database_url": database_url, "database_pooler": "none", "pool_min_size": 0}
    )
    async with pools.opened(direct, init=warm_up) as pool, pool.acquire() as conn:
        assert await conn.fetchval(WALLET_READ_PREPARED, wallet.WALLET_JSON) == 1


async def test_a_pool_behind_a_transaction_pooler_does_not_warm(
    app_settings: Settings, database_url: str
) -> None:
    pooled = app_settings.model_copy(
        update={
            "database_url": database_url,
            "database_pooler": "transaction",
            "pool_min_size": 0,
        }
    )
    async with pools.opened(pooled, init=warm_up) as pool, pool.acquire() as conn:
        assert await conn.fetchval(WALLET_READ_PREPARED, wallet.WALLET_JSON) == 0


async def test_a_fixed_pool_opens_and_warms_every_connection_at_start(
    app_settings: Settings, database_url: str
) -> None:
    fixed = app_settings.model_copy(
        update={
            "database_url": database_url,
            "database_pooler": "none",
            "pool_min_size": None,
            "pool_max_size": 3,
        }
    )
    async with pools.opened(fixed, init=warm_up) as pool:
        assert (pool.get_size(), pool.get_idle_size()) == (3, 3)
        conns = [await pool.acquire() for _ in range(3)]
        try:
            for conn in conns:
                assert await conn.fetchval(WALLET_READ_PREPARED, wallet.WALLET_JSON) == 1
        finally:
            for conn in conns:
                await pool.release(conn)
