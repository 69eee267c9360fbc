"""`shop audit`: passes on consistent books, names every discrepancy on tampered ones."""

from __future__ import annotations

import asyncpg

from tests.helpers import run_shop


async def test_audit_passes_on_consistent_books_and_fails_on_tampered_ones(
    db: asyncpg.Connection, database_url: str
) -> None:
    await db.execute(
        "INSERT INTO users (username, password_hash, balance)"
        " VALUES ('a', 'x', 990), ('b', 'x', 1010)"
    )
    await db.execute("INSERT INTO transfers (sender_id, receiver_id, amount) VALUES (1, 2, 10)")
    await db.execute("INSERT INTO transfer_totals VALUES (1, 2, 10)")

    clean = await run_shop("audit", env={"DATABASE_URL": database_url})
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "OK every coin is accounted for" in clean.stdout

    await db.execute("UPDATE users SET balance = balance + 5 WHERE username = 'b'")
    await db.execute("UPDATE transfer_totals SET amount = 11")
    await db.execute("INSERT INTO inventory VALUES (1, 'pen', 1)")
    tampered = await run_shop("audit", env={"DATABASE_URL": database_url})

    assert tampered.returncode == 1
    assert "FAIL 'b': balance 1015, ledger says 1010" in tampered.stdout
    assert "FAIL transfer total 1->2: aggregate 11, ledger 10" in tampered.stdout
    assert "FAIL inventory of 1 'pen': aggregate 1, ledger None" in tampered.stdout
    assert (
        "FAIL coins held 2005 + spent 0 != 1000 x 2 employees + granted 0 = 2000" in tampered.stdout
    )


async def test_audit_counts_granted_coins_and_names_a_balance_a_grant_does_not_explain(
    db: asyncpg.Connection, database_url: str
) -> None:
    await db.execute(
        "INSERT INTO users (username, password_hash, balance)"
        " VALUES ('a', 'x', 1050), ('b', 'x', 1050)"
    )
    await db.execute(
        "INSERT INTO grants (granted_by, amount, reason, to_all, recipients, granted)"
        " VALUES (1, 50, 'q3', true, 2, 2)"
    )
    await db.execute("INSERT INTO grant_credits (grant_id, user_id) VALUES (1, 1), (1, 2)")

    clean = await run_shop("audit", env={"DATABASE_URL": database_url})
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "coins granted 100 (2 credits)" in clean.stdout

    await db.execute("UPDATE users SET balance = balance + 50 WHERE username = 'b'")  # twice
    tampered = await run_shop("audit", env={"DATABASE_URL": database_url})

    assert tampered.returncode == 1
    assert "FAIL 'b': balance 1100, ledger says 1050" in tampered.stdout
    assert "FAIL coins held 2150 + spent 0 != 1000 x 2 employees + granted 100 = 2100" in (
        tampered.stdout
    )
