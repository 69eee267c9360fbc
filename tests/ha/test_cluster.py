"""The launched cluster replicates synchronously and HAProxy routes writes to the primary."""

from __future__ import annotations

import asyncpg

from ammo.stack.patroni import Cluster


async def test_a_commit_through_haproxy_is_held_by_a_synchronous_standby(cluster: Cluster) -> None:
    conn = await asyncpg.connect(cluster.url())
    try:
        assert await conn.fetchval("SELECT pg_is_in_recovery()") is False
        # strict mode: "*" until Patroni names the standby; never empty (asynchronous)
        assert await conn.fetchval("SHOW synchronous_standby_names") != ""
        states = await conn.fetch("SELECT sync_state FROM pg_stat_replication")
        # One standby confirms every commit; while the names are still "*", the other is
        # "potential" (it would take over as synchronous), else "async".
        assert sorted(r["sync_state"] for r in states) in (["async", "sync"], ["potential", "sync"])
        await conn.execute("CREATE TABLE IF NOT EXISTS ha_probe (coins int)")
        await conn.execute("INSERT INTO ha_probe VALUES (7)")
    finally:
        await conn.close()
    replica = await asyncpg.connect(cluster.url(replica=True))
    try:
        assert await replica.fetchval("SELECT pg_is_in_recovery()") is True
    finally:
        await replica.close()
