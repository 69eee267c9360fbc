"""The ceiling to compare against: only the unavoidable work of an authenticated request.

GET /api/ceiling verifies the bearer JWT with the service's own codec and runs one
`SELECT balance` through a pool built exactly like the service's. Start one process per
worker on the same port (SO_REUSEPORT), as `shop serve` does:

    DATABASE_URL=... JWT_SECRET=... PORT=8090 python -m ammo.ceiling
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import orjson
import uvloop
from aiohttp import web

from shop.auth.tokens import TokenCodec
from shop.config import Settings
from shop.db.pool import create_pool
from shop.http.chain import bearer_token

POOL = web.AppKey("pool", object)
TOKENS = web.AppKey("tokens", TokenCodec)
BALANCE = "SELECT balance FROM users WHERE id = $1"


async def ceiling(request: web.Request) -> web.Response:
    claims = request.app[TOKENS].decode(bearer_token(request))
    balance = await request.app[POOL].fetchval(BALANCE, claims.user_id)
    return web.Response(body=orjson.dumps({"coins": balance}), content_type="application/json")


def create_app(settings: Settings) -> web.Application:
    @contextlib.asynccontextmanager
    async def pool_ctx(app: web.Application) -> AsyncIterator[None]:
        assert settings.database_url is not None  # noqa: S101
        async with create_pool(settings, settings.database_url) as pool:
            app[POOL] = pool
            yield

    app = web.Application()
    assert settings.jwt_secret is not None  # noqa: S101
    app[TOKENS] = TokenCodec(settings.jwt_secret.get_secret_value(), settings.jwt_ttl_seconds)
    app.cleanup_ctx.append(pool_ctx)
    app.router.add_get("/api/ceiling", ceiling)
    return app


if __name__ == "__main__":
    settings = Settings()
    web.run_app(
        create_app(settings),
        host="127.0.0.1",
        port=settings.port,
        reuse_port=True,
        access_log=None,
        print=None,
        loop=uvloop.new_event_loop(),
    )
