"""The application factory: wires settings, resources, middlewares and routes. No I/O here."""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import AsyncIterator

from aiohttp import web

from shop.config import Settings
from shop.db import connection_middleware, pool_ctx
from shop.handlers import auth, buy, coins, contract, health, info, metrics
from shop.headers import add_security_headers
from shop.keys import HASHER, LOCKOUT, POOL, SETTINGS, TOKENS, WALLET_CACHE
from shop.middlewares import auth_middleware, error_middleware
from shop.observability import observe_middleware
from shop.repositories import secrets as secrets_repo
from shop.security import PasswordHasher, TokenCodec
from shop.services.auth import LockoutPolicy
from shop.services.wallet_cache import WalletCache

log = logging.getLogger(__name__)

JWT_SECRET_NAME = "jwt_secret"  # noqa: S105 - the name of the row, not a secret


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


def create_app(settings: Settings) -> web.Application:
    """Build the application; the pool opens when the app starts."""
    app = web.Application(
        client_max_size=settings.max_body_bytes,
        middlewares=[observe_middleware, error_middleware, auth_middleware, connection_middleware],
    )
    app[SETTINGS] = settings
    app[WALLET_CACHE] = WalletCache(settings.info_cache_size)
    app[LOCKOUT] = LockoutPolicy.from_settings(settings)
    app.on_response_prepare.append(add_security_headers)
    app.cleanup_ctx.extend([pool_ctx, hasher_ctx, tokens_ctx])
    for module in (auth, info, coins, buy, health, metrics, contract):
        app.router.add_routes(module.routes)
    return app
