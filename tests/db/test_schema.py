"""What the schema itself refuses: changes to the ledger, negative balances, self-transfers."""

from __future__ import annotations

import asyncpg
import pytest


async def test_ledger_rows_cannot_be_changed(db: asyncpg.Connection) -> None:
    await db.execute(
        "INSERT INTO users (username, password_hash, balance)"
        " VALUES ('a', 'x', 990), ('b', 'x', 1010)"
    )
    await db.execute("INSERT INTO transfers (sender_id, receiver_id, amount) VALUES (1, 2, 10)")

    with pytest.raises(asyncpg.RestrictViolationError, match="append-only"):
        await db.execute("UPDATE transfers SET amount = 1")
    with pytest.raises(asyncpg.RestrictViolationError, match="append-only"):
        await db.execute("DELETE FROM transfers")


async def test_database_refuses_negative_balance_and_self_transfer(db: asyncpg.Connection) -> None:
    await db.execute("INSERT INTO users (username, password_hash, balance) VALUES ('a', 'x', 5)")

    with pytest.raises(asyncpg.CheckViolationError):
        await db.execute("UPDATE users SET balance = balance - 6")
    with pytest.raises(asyncpg.CheckViolationError):
        await db.execute("INSERT INTO transfers (sender_id, receiver_id, amount) VALUES (1, 1, 1)")
