"""The application factory: wires settings, resources, the middleware chain and routes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator

from aiohttp import web

from shop.auth import directory
from shop.auth.hash_queue import AdmittedHasher, HashSlots
from shop.auth.passwords import PasswordHasher
from shop.auth.throttle import ThrottlePolicy
from shop.auth.tokens import TokenCodec
from shop.config import Settings
from shop.db import pool as pools
from shop.db.request_connection import IdleConnections
from shop.handlers import auth, docs, grants, health, merch, metrics, roles, wallet, webapp
from shop.http.chain import MIDDLEWARES
from shop.http.headers import add_security_headers
from shop.keys import ACCOUNTS, HASHER, IDLE_CONNECTIONS, POOL, SETTINGS, TOKENS, WALLET_CACHE
from shop.observability import metrics as observed
from shop.repositories import secrets as secrets_repo
from shop.repositories.warm_up import warm_up
from shop.services.accounts import Accounts
from shop.services.wallet import WalletCache

log = logging.getLogger(__name__)

JWT_SECRET_NAME = "jwt_secret"  # noqa: S105 - the name of the row, not a secret


@contextlib.asynccontextmanager
async def metrics_ctx(_app: web.Application) -> AsyncIterator[None]:
    """Publish this worker's per-request metrics every second, and once more at the end."""
    publisher = asyncio.create_task(observed.publish_periodically())
    try:
        yield
    finally:
        publisher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await publisher
        observed.publish()


@contextlib.asynccontextmanager
async def pool_ctx(app: web.Application) -> AsyncIterator[None]:
    """The connection pool for the app's lifetime; each new connection is warmed up."""
    async with pools.opened(app[SETTINGS], init=warm_up) as pool:
        app[POOL] = pool
        yield


@contextlib.asynccontextmanager
async def idle_connections_ctx(app: web.Application) -> AsyncIterator[None]:
    """The connections kept between requests; given back before the pool closes."""
    settings = app[SETTINGS]
    # Two connections stay for the pool's direct users, the logins.
    keep = max(0, settings.pool_max_size - 2)
    idle = IdleConnections(app[POOL], settings.pool_acquire_timeout, keep=keep)
    app[IDLE_CONNECTIONS] = idle
    try:
        yield
    finally:
        await idle.close()


@contextlib.asynccontextmanager
async def hasher_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    hasher = PasswordHasher(settings.bcrypt_rounds, settings.hash_threads, settings.hash_niceness)
    app[HASHER] = hasher
    yield
    hasher.close()


@contextlib.asynccontextmanager
async def tokens_ctx(app: web.Application) -> AsyncIterator[None]:
    """Use JWT_SECRET, or else this deployment's own key kept in its database.

    A key generated per process would reject tokens issued by the other workers and before
    a restart; a key in the code would be the same for everyone who runs it.
    """
    settings = app[SETTINGS]
    if settings.jwt_secret is not None:
        secret = settings.jwt_secret.get_secret_value()
    else:
        async with app[POOL].acquire() as conn:
            secret = await secrets_repo.get_or_create(
                conn, JWT_SECRET_NAME, secrets.token_urlsafe(48)
            )
        log.info("JWT_SECRET is not set: using this deployment's key stored in its database")
    app[TOKENS] = TokenCodec(secret, settings.jwt_ttl_seconds)
    yield


@contextlib.asynccontextmanager
async def accounts_ctx(app: web.Application) -> AsyncIterator[None]:
    """The login service, once the pool, the hasher and the tokens exist."""
    settings = app[SETTINGS]
    app[ACCOUNTS] = Accounts(
        pool=app[POOL],
        hasher=AdmittedHasher(
            app[HASHER], HashSlots(settings.hash_threads, settings.hash_wait_seconds)
        ),
        tokens=app[TOKENS],
        policy=ThrottlePolicy.from_settings(settings),
        acquire_timeout=settings.pool_acquire_timeout,
        directory=directory.from_setting(settings.employee_directory),
    )
    yield


def create_app(settings: Settings) -> web.Application:
    """Build the application; the pool opens when the app starts."""
    app = web.Application(client_max_size=settings.max_body_bytes, middlewares=MIDDLEWARES)
    app[SETTINGS] = settings
    app[WALLET_CACHE] = WalletCache(settings.info_cache_size)
    app.on_response_prepare.append(add_security_headers)
    app.cleanup_ctx.extend(
        [metrics_ctx, pool_ctx, idle_connections_ctx, hasher_ctx, tokens_ctx, accounts_ctx]
    )
    for module in (auth, wallet, merch, roles, grants, health, metrics, docs, webapp):
        app.router.add_routes(module.routes)
    return app
