"""Warming a new connection: the wallet read is prepared on it, and nothing changes."""

from __future__ import annotations

import asyncpg

from shop.repositories import wallet
from shop.repositories.warm_up import warm_up
from tests.db.test_pool import WALLET_READ_PREPARED


async def test_warm_up_prepares_the_wallet_read_and_leaves_the_connection_idle(
    db: asyncpg.Connection,
) -> None:
    await db.execute("INSERT INTO users (username, password_hash, balance) VALUES ('ann', 'x', 7)")
    assert await db.fetchval(WALLET_READ_PREPARED, wallet.WALLET_JSON) == 0

    await warm_up(db)

    assert await db.fetchval(WALLET_READ_PREPARED, wallet.WALLET_JSON) == 1
    assert not db.is_in_transaction()
    assert await db.fetch("SELECT username, balance FROM users") == [("ann", 7)]
