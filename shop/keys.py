"""Every typed key for application and request state, in one place."""

from __future__ import annotations

import asyncpg
from aiohttp import web

from shop.config import Settings
from shop.connection import RequestConnection
from shop.security import Claims, PasswordHasher, TokenCodec
from shop.services.auth import LockoutPolicy
from shop.services.wallet_cache import WalletCache

SETTINGS = web.AppKey("settings", Settings)
POOL = web.AppKey("pool", asyncpg.Pool)
HASHER = web.AppKey("hasher", PasswordHasher)
TOKENS = web.AppKey("tokens", TokenCodec)
WALLET_CACHE = web.AppKey("wallet_cache", WalletCache)
LOCKOUT = web.AppKey("lockout", LockoutPolicy)

USER = web.RequestKey("user", Claims)
CONN = web.RequestKey("conn", RequestConnection)
