"""Log in, registering the employee on first login; lock a name out after repeated failures."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import asyncpg

from shop.catalog import STARTING_BALANCE
from shop.config import Settings
from shop.errors import InvalidCredentialsError, LoginLockedError
from shop.repositories import login_failures, users
from shop.security import PasswordHasher, TokenCodec

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    """After `max_failures` wrong passwords for one name within `window_seconds`, every
    attempt for that name is refused for `lockout_seconds`, without running bcrypt."""

    max_failures: int
    window_seconds: int
    lockout_seconds: int

    @classmethod
    def from_settings(cls, settings: Settings) -> LockoutPolicy:
        return cls(
            settings.login_max_failures,
            settings.login_window_seconds,
            settings.login_lockout_seconds,
        )


async def login(
    pool: asyncpg.Pool,
    hasher: PasswordHasher,
    tokens: TokenCodec,
    username: str,
    password: str,
    *,
    policy: LockoutPolicy,
    acquire_timeout: float,
) -> str:
    """Return a token for `username`, creating the employee with the starting balance if new.

    Connections are held only for single statements, never while bcrypt runs. Two first
    logins racing for one name both hash; the loser's insert does nothing, so it verifies its
    password against the winner's hash: same password, same outcome as a later login.

    The lock-out is per name and lives in the database, so it holds across workers and
    restarts and never slows other employees down. A locked name is refused before bcrypt:
    the guesser learns nothing, even with the right password, until the lock ends.
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
    if found.locked:
        raise LoginLockedError(found.locked_for or 1)
    if not await hasher.verify(password, found.password_hash):
        async with pool.acquire(timeout=acquire_timeout) as conn:
            locked_for = await login_failures.record_failure(
                conn,
                username,
                max_failures=policy.max_failures,
                window_seconds=policy.window_seconds,
                lockout_seconds=policy.lockout_seconds,
            )
        if locked_for is not None:
            # The name only: who is being guessed at is worth an alert, the guesses are not.
            log.warning(
                "login locked out for %r for %d s after wrong passwords", username, locked_for
            )
            raise LoginLockedError(locked_for)
        raise InvalidCredentialsError
    if found.has_failures:
        async with pool.acquire(timeout=acquire_timeout) as conn:
            await login_failures.reset(conn, username)
    return tokens.issue(found.user_id, username)
