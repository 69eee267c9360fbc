"""Seed a migrated, empty database with 100k employees and a consistent history, by COPY.

    DATABASE_URL=postgresql://... python -m ammo.seed [--employees N] [--transfers N] ...

`python -m ammo run` calls `seed()` itself on the fresh benchmark database.

Names get their confusable skeleton as a registration would store it. Every employee
shares one precomputed bcrypt hash of accounts.PASSWORD (cost BCRYPT_ROUNDS,
so re-logins cost what a real login costs). The history is generated in memory by applying
each transfer and purchase in order, refusing any that would overdraw, exactly as the service
would; the aggregates (transfer_totals, inventory) are summed from that same ledger, so
`shop audit` passes on the result. See accounts.py for the special employees.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
from collections import Counter

import asyncpg

from ammo import accounts
from shop.auth.passwords import PasswordHasher
from shop.auth.usernames import skeleton
from shop.catalog import PRICES, STARTING_BALANCE

HEAVY_TRANSFERS_EACH = 100  # to each of the 100 colleagues: 10,000 transfers of 1 coin
HEAVY_PURCHASES = 10_000
HEAVY_ITEMS = ("pen", "socks")  # 10 coins each: 100,000 coins in all
DONORS_PER_COLLECTOR = 12


class Ledger:
    """Balances plus the rows to COPY; refuses what the service would refuse."""

    def __init__(self, employees: int) -> None:
        self.balance = [STARTING_BALANCE] * (employees + 1)  # index = id; [0] unused
        self.transfers: list[tuple[int, int, int]] = []
        self.purchases: list[tuple[int, str, int]] = []
        self.totals: Counter[tuple[int, int]] = Counter()
        self.inventory: Counter[tuple[int, str]] = Counter()

    def transfer(self, sender: int, receiver: int, amount: int) -> bool:
        if sender == receiver or self.balance[sender] < amount:
            return False
        self.balance[sender] -= amount
        self.balance[receiver] += amount
        self.transfers.append((sender, receiver, amount))
        self.totals[sender, receiver] += amount
        return True

    def buy(self, user: int, item: str) -> bool:
        price = PRICES[item]
        if self.balance[user] < price:
            return False
        self.balance[user] -= price
        self.purchases.append((user, item, price))
        self.inventory[user, item] += 1
        return True


def build_history(
    ledger: Ledger, employees: int, transfers: int, purchases: int, rng: random.Random
) -> None:
    """The special employees' fixed history, then random history among ordinary ones."""
    for i, collector in enumerate(accounts.COLLECTORS):
        for donor in accounts.DONORS[i * DONORS_PER_COLLECTOR : (i + 1) * DONORS_PER_COLLECTOR]:
            assert ledger.transfer(donor, collector, STARTING_BALANCE)  # noqa: S101
        assert ledger.transfer(  # noqa: S101
            collector, accounts.HEAVY, DONORS_PER_COLLECTOR * STARTING_BALANCE
        )
    for _ in range(HEAVY_TRANSFERS_EACH):
        for colleague in accounts.HEAVY_COLLEAGUES:
            assert ledger.transfer(accounts.HEAVY, colleague, 1)  # noqa: S101
    for n in range(HEAVY_PURCHASES):
        assert ledger.buy(accounts.HEAVY, HEAVY_ITEMS[n % len(HEAVY_ITEMS)])  # noqa: S101

    load, ordinary = accounts.load(employees), accounts.ordinary(employees)
    for n, benefactor in enumerate(range(load.stop, ordinary.stop)):
        receiver = load[n % len(load)]
        assert ledger.transfer(benefactor, receiver, accounts.BENEFACTION)  # noqa: S101

    first, last = ordinary.start, ordinary.stop - 1
    items = list(PRICES)
    weights = [1 / PRICES[item] for item in items]  # cheap merch sells more
    done = 0
    while done < transfers:
        sender, receiver = rng.randint(first, last), rng.randint(first, last)
        done += ledger.transfer(sender, receiver, rng.randint(1, 100))
    bought = 0
    while bought < purchases:
        user = rng.randint(first, last)
        bought += ledger.buy(user, rng.choices(items, weights)[0])


async def copy_all(
    conn: asyncpg.Connection, ledger: Ledger, employees: int, password_hash: str
) -> None:
    users = [
        (user_id, name, skeleton(name), password_hash, ledger.balance[user_id])
        for user_id, name in ((i, accounts.name(i)) for i in range(1, employees + 1))
    ]
    async with conn.transaction():
        await conn.copy_records_to_table(
            "users",
            records=users,
            columns=["id", "username", "username_skeleton", "password_hash", "balance"],
        )
        await conn.execute(
            "SELECT setval(pg_get_serial_sequence('users', 'id'), (SELECT max(id) FROM users))"
        )
        await conn.copy_records_to_table(
            "transfers", records=ledger.transfers, columns=["sender_id", "receiver_id", "amount"]
        )
        await conn.copy_records_to_table(
            "purchases", records=ledger.purchases, columns=["user_id", "item", "price"]
        )
        await conn.copy_records_to_table(
            "transfer_totals",
            records=[(s, r, amount) for (s, r), amount in ledger.totals.items()],
            columns=["sender_id", "receiver_id", "amount"],
        )
        await conn.copy_records_to_table(
            "inventory",
            records=[(u, item, n) for (u, item), n in ledger.inventory.items()],
            columns=["user_id", "item", "quantity"],
        )
    # Visibility map and statistics now, so autovacuum does not wake up mid-benchmark, and
    # the checkpoint the bulk load calls for, so it does not run during the first scenario.
    for table in ("users", "transfers", "purchases", "transfer_totals", "inventory"):
        await conn.execute(f"VACUUM ANALYZE {table}")
    try:
        await conn.execute("CHECKPOINT")
    except asyncpg.InsufficientPrivilegeError:
        print("no CHECKPOINT (needs superuser or pg_checkpoint)", file=sys.stderr)


async def seed(
    dsn: str, *, employees: int, transfers: int, purchases: int, rounds: int, rng_seed: int
) -> str:
    """Seed the empty database at dsn; return a one-line summary (raises if not empty)."""
    if employees < accounts.MIN_EMPLOYEES:
        raise ValueError(f"at least {accounts.MIN_EMPLOYEES} employees")
    started = time.perf_counter()
    hasher = PasswordHasher(rounds, 1)
    password_hash = await hasher.hash(accounts.PASSWORD)
    hasher.close()
    ledger = Ledger(employees)
    build_history(ledger, employees, transfers, purchases, random.Random(rng_seed))
    generated = time.perf_counter()

    conn = await asyncpg.connect(dsn)
    try:
        if await conn.fetchval("SELECT EXISTS (SELECT FROM users)"):
            raise RuntimeError("refusing to seed: the users table is not empty")
        await copy_all(conn, ledger, employees, password_hash)
    finally:
        await conn.close()
    finished = time.perf_counter()
    return (
        f"seeded {employees} employees, {len(ledger.transfers)} transfers, "
        f"{len(ledger.purchases)} purchases in {finished - started:.1f}s "
        f"(generate {generated - started:.1f}s, copy+vacuum {finished - generated:.1f}s)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=accounts.EMPLOYEES)
    parser.add_argument("--transfers", type=int, default=200_000, help="random transfers")
    parser.add_argument("--purchases", type=int, default=100_000, help="random purchases")
    parser.add_argument("--seed", type=int, default=20250101, help="random seed")
    args = parser.parse_args()
    summary = asyncio.run(
        seed(
            os.environ["DATABASE_URL"],
            employees=args.employees,
            transfers=args.transfers,
            purchases=args.purchases,
            rounds=int(os.environ.get("BCRYPT_ROUNDS", "10")),
            rng_seed=args.seed,
        )
    )
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
