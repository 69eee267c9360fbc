"""Every typed key for application and request state, in one place."""

from __future__ import annotations

import asyncpg
from aiohttp import web

from shop.auth.passwords import PasswordHasher
from shop.auth.tokens import Claims, TokenCodec
from shop.config import Settings
from shop.db.request_connection import IdleConnections, RequestConnection
from shop.services.accounts import Accounts
from shop.services.wallet import WalletCache

SETTINGS = web.AppKey("settings", Settings)
POOL = web.AppKey("pool", asyncpg.Pool)
IDLE_CONNECTIONS = web.AppKey("idle_connections", IdleConnections)
HASHER = web.AppKey("hasher", PasswordHasher)
TOKENS = web.AppKey("tokens", TokenCodec)
ACCOUNTS = web.AppKey("accounts", Accounts)
WALLET_CACHE = web.AppKey("wallet_cache", WalletCache)

USER = web.RequestKey("user", Claims)
CONN = web.RequestKey("conn", RequestConnection)
