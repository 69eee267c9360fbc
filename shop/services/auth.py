"""Log in, registering the employee on first login."""

from __future__ import annotations

import asyncpg

from shop.catalog import STARTING_BALANCE
from shop.errors import InvalidCredentialsError
from shop.repositories import users
from shop.security import PasswordHasher, TokenCodec


async def login(
    pool: asyncpg.Pool,
    hasher: PasswordHasher,
    tokens: TokenCodec,
    username: str,
    password: str,
    *,
    acquire_timeout: float,
) -> str:
    """Return a token for `username`, creating the employee with the starting balance if new.

    Connections are held only for single statements, never while bcrypt runs. Two first
    logins racing for one name both hash; the loser's insert does nothing, so it verifies its
    password against the winner's hash: same password, same outcome as a later login.
    """
    async with pool.acquire(timeout=acquire_timeout) as conn:
        found = await users.find_credentials(conn, username)
    if found is None:
        password_hash = await hasher.hash(password)
        async with pool.acquire(timeout=acquire_timeout) as conn:
            user_id = await users.create(conn, username, password_hash, STARTING_BALANCE)
            if user_id is not None:
                return tokens.issue(user_id, username)
            found = await users.find_credentials(conn, username)
        if found is None:  # created and gone again: an operator removed it meanwhile
            raise InvalidCredentialsError
    if not await hasher.verify(password, found.password_hash):
        raise InvalidCredentialsError
    return tokens.issue(found.user_id, username)
