"""The errors that mean "the database is unavailable": never the client's fault."""

from __future__ import annotations

import asyncio

import asyncpg

UNAVAILABLE = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.QueryCanceledError,
    asyncpg.AdminShutdownError,
)
"""Unreachable, restarting or too slow. Whether anything was written is not known here."""
