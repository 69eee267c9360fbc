"""Grants and their credits (migration 0016): the deposit side of the ledger."""

from __future__ import annotations

from dataclasses import dataclass

from shop.db.connections import Connection

CREATE = """
INSERT INTO grants (granted_by, amount, reason, to_all, recipients, up_to)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING id
"""

FIND_EMPLOYEES = "SELECT id, username FROM users WHERE username = ANY($1::text[]) ORDER BY id"

LOCK_ACCOUNTS = "SELECT lock_accounts_or_retry($1::bigint[])"

# Every employee that exists now: how many, and the highest id a grant to all walks up to.
EVERYONE = "SELECT count(*) AS recipients, COALESCE(max(id), 0) AS up_to FROM users"

# A grant made in this transaction, so none of its credits exists yet: each balance is raised
# (its row locked) before its credit draws `seq`, as migration 0010 requires.
CREDIT_NAMED = """
WITH credit AS (
    UPDATE users u SET balance = u.balance + $3 WHERE u.id = ANY($2::bigint[]) RETURNING u.id
)
INSERT INTO grant_credits (grant_id, user_id) SELECT $1, c.id FROM credit c ORDER BY c.id
"""

MARK_DONE = "UPDATE grants SET granted = $2, next_after = up_to, done_at = now() WHERE id = $1"

FIND = """
SELECT id, amount, reason, recipients, granted, done_at IS NOT NULL AS done
FROM grants WHERE id = $1
"""

# The oldest grant to all still running, locked, so two workers never walk the same one at
# once (the second takes the next, or none).
NEXT_RUNNING = """
SELECT id, amount, up_to, next_after FROM grants
WHERE done_at IS NULL ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED
"""

HOLD_WRITE_GATE = "LOCK TABLE write_gate IN ROW EXCLUSIVE MODE"

# One batch of a grant to all: the next employees by id, their accounts' advisory locks
# taken (waited for, in id order: the write procedures only ever try them); a credit for each
# one that has none from this grant; and the balance raised for exactly the credits inserted.
# Run again after a crash, the batch inserts nothing for those credited before it, and
# raises no balance twice.
CREDIT_BATCH = """
WITH batch AS (
    SELECT u.id FROM users u WHERE u.id > $2 AND u.id <= $3 ORDER BY u.id LIMIT $5
), locked AS (
    SELECT b.id, pg_advisory_xact_lock(b.id) FROM batch b ORDER BY b.id
), entry AS (
    INSERT INTO grant_credits (grant_id, user_id)
    SELECT $1, l.id FROM locked l ORDER BY l.id
    ON CONFLICT (grant_id, user_id) DO NOTHING
    RETURNING user_id
), credit AS (
    UPDATE users u SET balance = u.balance + $4 FROM entry e WHERE u.id = e.user_id
    RETURNING u.id
)
SELECT (SELECT max(b.id) FROM batch b) AS last, (SELECT count(*) FROM credit) AS credited
"""

ADVANCE = """
UPDATE grants
SET next_after = $2, granted = least(recipients, granted + $3),
    done_at = CASE WHEN $4 THEN now() END
WHERE id = $1
"""


@dataclass(frozen=True, slots=True)
class GrantState:
    id: int
    amount: int
    reason: str
    recipients: int
    granted: int
    done: bool


@dataclass(frozen=True, slots=True)
class Running:
    id: int
    amount: int
    up_to: int
    next_after: int


@dataclass(frozen=True, slots=True)
class Batch:
    last: int | None
    """The highest id the batch reached; None: no employee was left."""
    credited: int


async def create(
    conn: Connection,
    *,
    granted_by: int,
    amount: int,
    reason: str,
    to_all: bool,
    recipients: int,
    up_to: int = 0,
) -> int:
    grant_id: int = await conn.fetchval(
        CREATE, granted_by, amount, reason, to_all, recipients, up_to
    )
    return grant_id


async def find_employees(conn: Connection, names: list[str]) -> dict[str, int]:
    """The ids of those of `names` that exist, by name."""
    return {row["username"]: row["id"] for row in await conn.fetch(FIND_EMPLOYEES, names)}


async def lock_accounts(conn: Connection, user_ids: list[int]) -> None:
    """The accounts' advisory locks for this transaction, or 40001 if a writer holds one."""
    await conn.execute(LOCK_ACCOUNTS, user_ids)


async def everyone(conn: Connection) -> tuple[int, int]:
    """How many employees exist, and the highest id among them."""
    row = await conn.fetchrow(EVERYONE)
    if row is None:  # pragma: no cover - aggregates without GROUP BY return one row
        raise RuntimeError("counting the employees returned no row")
    return row["recipients"], row["up_to"]


async def credit_named(conn: Connection, grant_id: int, user_ids: list[int], amount: int) -> None:
    await conn.execute(CREDIT_NAMED, grant_id, user_ids, amount)
    await conn.execute(MARK_DONE, grant_id, len(user_ids))


async def find(conn: Connection, grant_id: int) -> GrantState | None:
    row = await conn.fetchrow(FIND, grant_id)
    return None if row is None else GrantState(*row)


async def next_running(conn: Connection) -> Running | None:
    row = await conn.fetchrow(NEXT_RUNNING)
    return None if row is None else Running(*row)


async def hold_write_gate(conn: Connection) -> None:
    """As a write procedure holds it (migration 0011), until the transaction ends."""
    await conn.execute(HOLD_WRITE_GATE)


async def credit_batch(conn: Connection, grant: Running, size: int) -> Batch:
    row = await conn.fetchrow(
        CREDIT_BATCH, grant.id, grant.next_after, grant.up_to, grant.amount, size
    )
    if row is None:  # pragma: no cover - the batch statement returns one row, always
        raise RuntimeError("a grant batch returned no row")
    return Batch(row["last"], row["credited"])


async def advance(
    conn: Connection, grant_id: int, next_after: int, credited: int, *, done: bool
) -> None:
    await conn.execute(ADVANCE, grant_id, next_after, credited, done)
