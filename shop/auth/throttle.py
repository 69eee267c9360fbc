"""The guessing policy: how many passwords may be tried for a name, from where, how fast.

Replaces the per-name lock-out, which let anyone who knew a colleague's name keep them out
and let concurrent guesses run past it. An attempt for an existing name is charged before
bcrypt (see migrations/0009_login_attempts.sql), per (name, client address):

- `max_failures` attempts, then waits of `backoff_base`, twice that, and so on up to
  `backoff_max` seconds between attempts, until `quiet_seconds` pass without one;
- per name, at most `name_max_failures` attempts in `name_window_seconds` from addresses
  that never logged in to it; addresses the owner logged in from are exempt.

So one address gets a handful of guesses an hour whatever its concurrency, many addresses
together at most `name_max_failures` per window, and the owner, from an address they used
before, is never held up by guesses from elsewhere. docs/security.md has the numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

from shop.config import Settings
from shop.db.connections import Connection
from shop.repositories import login_attempts


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    max_failures: int
    quiet_seconds: float
    backoff_base: float
    backoff_max: float
    name_max_failures: int
    name_window_seconds: float

    @classmethod
    def from_settings(cls, settings: Settings) -> ThrottlePolicy:
        return cls(
            max_failures=settings.login_max_failures,
            quiet_seconds=settings.login_window_seconds,
            backoff_base=settings.login_backoff_base_seconds,
            backoff_max=settings.login_lockout_seconds,
            name_max_failures=settings.login_name_max_failures,
            name_window_seconds=settings.login_name_window_seconds,
        )

    def wait_after(self, failures: int) -> float:
        """Seconds one address waits after its `failures`-th charged attempt (0: none)."""
        if failures < self.max_failures:
            return 0.0
        return min(self.backoff_max, self.backoff_base * 2.0 ** (failures - self.max_failures))


@dataclass(frozen=True, slots=True)
class Ticket:
    """A reserved attempt, to be settled unless the password was wrong."""

    username: str
    client: str
    name_charged: bool


class Throttled(Exception):  # noqa: N818 - a condition, not a programming error
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


async def reserve(conn: Connection, policy: ThrottlePolicy, username: str, client: str) -> Ticket:
    """Charge one attempt for `username` from `client`, or raise Throttled."""
    reserved = await login_attempts.reserve(
        conn,
        username,
        client,
        max_failures=policy.max_failures,
        quiet_seconds=policy.quiet_seconds,
        backoff_base=policy.backoff_base,
        backoff_max=policy.backoff_max,
        name_max_failures=policy.name_max_failures,
        name_window_seconds=policy.name_window_seconds,
    )
    if reserved.retry_after > 0:
        raise Throttled(reserved.retry_after)
    return Ticket(username, client, reserved.name_charged)


async def refund(
    conn: Connection, policy: ThrottlePolicy, ticket: Ticket, *, logged_in: bool
) -> None:
    """Take the charge back: the password was right, or bcrypt never ran."""
    await login_attempts.settle(
        conn,
        ticket.username,
        ticket.client,
        success=logged_in,
        name_charged=ticket.name_charged,
        max_failures=policy.max_failures,
    )


async def remember(conn: Connection, policy: ThrottlePolicy, username: str, client: str) -> None:
    """A new employee registered from `client`: an address the owner uses."""
    await refund(conn, policy, Ticket(username, client, name_charged=False), logged_in=True)
