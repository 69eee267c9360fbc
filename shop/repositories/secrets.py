"""Per-deployment secrets generated once and shared by every worker and restart."""

from __future__ import annotations

from shop.db.connections import Connection

GET_OR_CREATE = """
WITH created AS (
    INSERT INTO app_secrets (name, value) VALUES ($1, $2)
    ON CONFLICT (name) DO NOTHING
    RETURNING value
)
SELECT value FROM created
UNION ALL
SELECT value FROM app_secrets WHERE name = $1
LIMIT 1
"""


async def get_or_create(conn: Connection, name: str, candidate: str) -> str:
    """Return the stored secret `name`, storing `candidate` first if there is none.

    A concurrent first writer makes our statement see neither its own insert nor the
    other's row (its snapshot predates that commit); the next statement sees it.
    """
    for _ in range(3):
        value: str | None = await conn.fetchval(GET_OR_CREATE, name, candidate)
        if value is not None:
            return value
    raise RuntimeError(f"secret {name!r} could not be stored or read")
