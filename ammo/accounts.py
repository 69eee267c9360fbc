"""Who is who in the seeded load database: shared by seed.py, the locustfiles and probes.

Ids are assigned by the seeder, so a scenario can name an employee without asking the API:

    1                the long-history employee: 10,000 transfers to ids 2..101, 10,000 purchases
    2..101           its 100 colleagues (they receive from it, nothing else is special)
    102..221         donors: each gave all 1,000 coins away, so they are broke (balance 0)
    222..231         collectors: each received from 12 donors and passed 12,000 on to id 1
    232              a new employee: no history at all (the baseline for /api/info cost)
    233              the hot colleague: the one every hot-scenario transfer goes to
    234..1000        reserved, untouched
    1001..EMPLOYEES  ordinary employees with random transfers and purchases
    1001..11000      of those, the load employees the scenarios log in as: each also received
                     500 coins from 8 or 9 of the others, so about 5,000-5,500 coins, and a
                     scenario never runs one dry (a user at 10 requests/s of the mixed load
                     spends about 16 coins/s)

A smaller seed (`--employees`, for the smoke test) keeps the special ids and shrinks the two
ordinary ranges; `ordinary(n)` and `load(n)` give them for a seed of n employees.
"""

from __future__ import annotations

EMPLOYEES = 100_000
PASSWORD = "load-password"

HEAVY = 1
HEAVY_COLLEAGUES = range(2, 102)
DONORS = range(102, 222)
COLLECTORS = range(222, 232)
NEWCOMER = 232
HOT = 233
FIRST_ORDINARY = 1001
MIN_EMPLOYEES = 1100
"""The smallest seed: the special ids plus 100 ordinary employees."""
BENEFACTION = 500

BUSY_TRIES = 60
"""Warm-up logins the service answers 'busy' (500 with Retry-After) are retried about once a
second, this many times, by either generator."""
SHORT_OF_COINS = "not enough coins"
"""In the service's 400 to a broke employee's buy or send: the service working, not a failure."""

CHEAP_ITEMS = ("pen", "socks", "cup")
"""Items a load user buys: cheap enough that a 1,000-coin employee can buy for a long while."""


def ordinary(employees: int = EMPLOYEES) -> range:
    """The ordinary employees of a seed of this size."""
    return range(FIRST_ORDINARY, employees + 1)


def load(employees: int = EMPLOYEES) -> range:
    """The load employees (scenarios log in as these) of a seed of this size."""
    return range(FIRST_ORDINARY, min(11_000, employees) + 1)


def name(user_id: int) -> str:
    """The username of the seeded employee with this id."""
    return f"emp{user_id:06d}"
