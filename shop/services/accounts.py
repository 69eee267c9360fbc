"""Log in, registering the employee on first login, within the login perimeter.

The perimeter (issue 9): guesses are charged before bcrypt per name and client address
(shop/auth/throttle.py), new names must be well formed and must not look like an existing
one (shop/auth/usernames.py), may be limited to a directory (shop/auth/directory.py), and
bcrypt work waits a bounded time for a thread, returning employees first
(shop/auth/hash_queue.py).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import asyncpg

from shop.auth import throttle, usernames
from shop.auth.directory import Directory
from shop.auth.hash_queue import AdmittedHasher, HashingBusy
from shop.auth.throttle import ThrottlePolicy
from shop.auth.tokens import TokenCodec
from shop.catalog import STARTING_BALANCE
from shop.db.connections import Connection
from shop.errors import (
    InvalidCredentialsError,
    InvalidUsernameError,
    LoginBusyError,
    LoginLockedError,
    LookalikeUsernameError,
    NotInDirectoryError,
)
from shop.repositories import users

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Accounts:
    """What a login needs, built once per application at start-up."""

    pool: asyncpg.Pool
    hasher: AdmittedHasher
    tokens: TokenCodec
    policy: ThrottlePolicy
    acquire_timeout: float
    directory: Directory | None = None

    async def login(self, username: str, password: str, client: str) -> str:
        """Return a token for `username`, creating the employee with the starting balance if new.

        Connections are held only for single statements (or the short registration
        transaction), never while bcrypt runs. A name is looked up as given, so employees
        registered before the username rules keep logging in, then in NFC.
        """
        async with self.pool.acquire(timeout=self.acquire_timeout) as conn:
            found = await users.find_credentials(conn, username)
            if found is None and usernames.nfc(username) != username:
                found = await users.find_credentials(conn, usernames.nfc(username))
            if found is None:
                name, skeleton = self._new_name(username)
                await self._may_register(conn, name, skeleton)
        if found is None:
            return await self._register(name, skeleton, password, client)
        return await self._verify(found, password, client)

    async def _verify(self, found: users.Credentials, password: str, client: str) -> str:
        async with self.pool.acquire(timeout=self.acquire_timeout) as conn:
            try:
                ticket = await throttle.reserve(conn, self.policy, found.username, client)
            except throttle.Throttled as exc:
                # The name only: who is being guessed at is worth an alert, the guesses not.
                log.warning(
                    "login attempts for %r from %s held back for %d s",
                    found.username,
                    client,
                    exc.retry_after,
                )
                raise LoginLockedError(exc.retry_after) from None
        try:
            right = await self.hasher.verify(password, found.password_hash)
        except HashingBusy as exc:
            await self._refund(ticket, logged_in=False)
            raise LoginBusyError(math.ceil(exc.waited)) from None
        if not right:
            raise InvalidCredentialsError  # the attempt stays charged
        await self._refund(ticket, logged_in=True)
        return self.tokens.issue(found.user_id, found.username)

    async def _refund(self, ticket: throttle.Ticket, *, logged_in: bool) -> None:
        async with self.pool.acquire(timeout=self.acquire_timeout) as conn:
            await throttle.refund(conn, self.policy, ticket, logged_in=logged_in)

    @staticmethod
    def _new_name(username: str) -> tuple[str, str]:
        try:
            name = usernames.check_new(username)
        except usernames.UsernameError as exc:
            raise InvalidUsernameError(f"username: {exc}") from None
        return name, usernames.skeleton(name)

    async def _may_register(self, conn: Connection, name: str, skeleton: str) -> None:
        """Refuse before bcrypt what registration would refuse after it."""
        if self.directory is not None and not await self.directory.allows(conn, name):
            raise NotInDirectoryError
        if await users.lookalike_exists(conn, name, skeleton):
            raise LookalikeUsernameError

    async def _register(self, name: str, skeleton: str, password: str, client: str) -> str:
        """Create the employee; a login that lost the race for the same name verifies.

        The loser's password is checked against the winner's hash: the same password gets
        the same outcome as a later login would. It is not charged as a guess: it started
        before the name had a password, and charging it would let the losers of a first-login
        race lock the winner's address out. Such unchanged guesses are bounded by the logins
        in flight when the name was created (at most HASH_THREADS per worker get a thread).
        """
        try:
            password_hash = await self.hasher.hash(password)
        except HashingBusy as exc:
            raise LoginBusyError(math.ceil(exc.waited)) from None
        async with self.pool.acquire(timeout=self.acquire_timeout) as conn:
            # The skeleton's lock makes check and insert one step for look-alikes; the same
            # name racing itself is settled by the unique constraint.
            async with conn.transaction():
                await users.lock_skeleton(conn, skeleton)
                lookalike = await users.lookalike_exists(conn, name, skeleton)
                user_id = None
                if not lookalike:
                    user_id = await users.create(
                        conn, name, skeleton, password_hash, STARTING_BALANCE
                    )
            if user_id is not None:
                await throttle.remember(conn, self.policy, name, client)
                return self.tokens.issue(user_id, name)
            if lookalike:
                raise LookalikeUsernameError
            found = await users.find_credentials(conn, name)
        if found is None:  # created and gone again: an operator removed it meanwhile
            raise InvalidCredentialsError
        try:
            right = await self.hasher.verify(password, found.password_hash)
        except HashingBusy as exc:
            raise LoginBusyError(math.ceil(exc.waited)) from None
        if not right:
            raise InvalidCredentialsError
        return self.tokens.issue(found.user_id, found.username)
