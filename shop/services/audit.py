"""`shop audit`: prove that no coin was created or lost, from one consistent snapshot.

Per employee: balance = 1000 + granted - spent - sent + received (refunds of cancelled
orders join as `+ refunded` with the orders); in total: held + spent = 1000 x employees +
granted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shop.catalog import STARTING_BALANCE
from shop.db.connections import Connection
from shop.repositories import audit as checks

SHOWN = 20
"""How many offending rows of each kind the report lists."""


@dataclass
class AuditReport:
    employees: int = 0
    balances: int = 0
    spent: int = 0
    granted: int = 0
    credits: int = 0
    transfers: int = 0
    purchases: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def render(self) -> str:
        lines = [
            f"employees {self.employees}, coins held {self.balances}, coins spent {self.spent}, "
            f"coins granted {self.granted} ({self.credits} credits), "
            f"transfers {self.transfers}, purchases {self.purchases}",
        ]
        lines += [f"FAIL {problem}" for problem in self.problems]
        lines += [] if self.problems else ["OK every coin is accounted for"]
        return "\n".join(lines)


async def run_audit(conn: Connection) -> AuditReport:
    """Check every invariant inside one read-only SERIALIZABLE DEFERRABLE snapshot.

    DEFERRABLE waits for a snapshot that no concurrent transaction can invalidate, so the
    audit may run against a live service without false alarms and without blocking writers.
    """
    async with conn.transaction(isolation="serializable", readonly=True, deferrable=True):
        totals = await checks.totals(conn)
        report = AuditReport(**dict(totals))
        for row in (await checks.balance_mismatches(conn, STARTING_BALANCE))[:SHOWN]:
            report.problems.append(
                f"{row['username']!r}: balance {row['balance']}, ledger says {row['expected']}"
            )
        for row in (await checks.transfer_total_mismatches(conn))[:SHOWN]:
            report.problems.append(
                f"transfer total {row['sender_id']}->{row['receiver_id']}: "
                f"aggregate {row['aggregate']}, ledger {row['ledger']}"
            )
        for row in (await checks.inventory_mismatches(conn))[:SHOWN]:
            report.problems.append(
                f"inventory of {row['user_id']} {row['item']!r}: "
                f"aggregate {row['aggregate']}, ledger {row['ledger']}"
            )
    # Coins enter at a first login and by grants (refunds of cancelled orders will join
    # `granted` here as one more source); they leave only by purchases.
    expected = STARTING_BALANCE * report.employees + report.granted
    if report.balances + report.spent != expected:
        report.problems.append(
            f"coins held {report.balances} + spent {report.spent} != "
            f"{STARTING_BALANCE} x {report.employees} employees + granted {report.granted}"
            f" = {expected}"
        )
    return report
