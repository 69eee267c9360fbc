"""Log in, registering the employee on first login; lock a name out after repeated failures."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import asyncpg

from shop.auth.lockout import LockoutPolicy
from shop.auth.passwords import PasswordHasher
from shop.auth.tokens import TokenCodec
from shop.errors import InvalidCredentialsError, LoginLockedError
from shop.repositories import login_failures, users

log = logging.getLogger(__name__)

STARTING_BALANCE = 1000
"""Coins every employee gets on first login; `shop audit` counts from it."""


@dataclass(frozen=True, slots=True)
class Accounts:
    """What a login needs, built once per application at start-up."""

    pool: asyncpg.Pool
    hasher: PasswordHasher
    tokens: TokenCodec
    policy: LockoutPolicy
    acquire_timeout: float

    async def login(self, username: str, password: str) -> str:
        """Return a token for `username`, creating the employee with the starting balance if new.

        Connections are held only for single statements, never while bcrypt runs. Two first
        logins racing for one name both hash; the loser's insert does nothing, so it verifies
        its password against the winner's hash: same password, same outcome as a later login.

        The lock-out is per name and lives in the database, so it holds across workers and
        restarts and never slows other employees down. A locked name is refused before
        bcrypt: the guesser learns nothing, even with the right password, until the lock ends.
        """
        async with self.pool.acquire(timeout=self.acquire_timeout) as conn:
            found = await users.find_credentials(conn, username)
        if found is None:
            password_hash = await self.hasher.hash(password)
            async with self.pool.acquire(timeout=self.acquire_timeout) as conn:
                user_id = await users.create(conn, username, password_hash, STARTING_BALANCE)
                if user_id is not None:
                    return self.tokens.issue(user_id, username)
                found = await users.find_credentials(conn, username)
            if found is None:  # created and gone again: an operator removed it meanwhile
                raise InvalidCredentialsError
        if found.locked:
            raise LoginLockedError(found.locked_for or 1)
        if not await self.hasher.verify(password, found.password_hash):
            await self._wrong_password(username)
        if found.has_failures:
            async with self.pool.acquire(timeout=self.acquire_timeout) as conn:
                await login_failures.reset(conn, username)
        return self.tokens.issue(found.user_id, username)

    async def _wrong_password(self, username: str) -> None:
        """Count the failure; raise the lock-out if it was the last one allowed, else 401."""
        async with self.pool.acquire(timeout=self.acquire_timeout) as conn:
            locked_for = await login_failures.record_failure(
                conn,
                username,
                max_failures=self.policy.max_failures,
                window_seconds=self.policy.window_seconds,
                lockout_seconds=self.policy.lockout_seconds,
            )
        if locked_for is not None:
            # The name only: who is being guessed at is worth an alert, the guesses are not.
            log.warning(
                "login locked out for %r for %d s after wrong passwords", username, locked_for
            )
            raise LoginLockedError(locked_for)
        raise InvalidCredentialsError
