"""The connection type queries take: a connection, or the pool's proxy of one."""

from __future__ import annotations

from typing import TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

Connection: TypeAlias = asyncpg.Connection | PoolConnectionProxy
"""`pool.acquire()` hands out a proxy that forwards every call to its connection."""
