"""What a write procedure reports back."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Outcome:
    """`balance` before the operation (None: no such employee); `applied`: it went through."""

    balance: int | None
    applied: bool
