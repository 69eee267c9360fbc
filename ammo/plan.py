"""What the driver tells one locust process: a scenario's steps plus where to put the results.

The driver writes it as JSON into the AMMO_PLAN environment variable; the locustfile reads it
at import. Without AMMO_PLAN (locust started by hand) the defaults give one 60 s step at
1,000/s.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field

from ammo import accounts
from ammo.scenarios import Scenario, Slo

ENV = "AMMO_PLAN"


@dataclass(frozen=True)
class Plan:
    steps: list[tuple[float | None, float]] = field(default_factory=lambda: [(1000.0, 60.0)])
    stop: Slo | None = None
    """Set for a search: stop after the first step that misses it."""
    fixed_users: dict[str, int] = field(default_factory=dict)
    fixed_rates: dict[str, float] = field(default_factory=dict)
    steps_csv: str = ""
    dbname: str = ""
    service_pids: list[int] = field(default_factory=list)
    components: dict[str, str] = field(default_factory=dict)
    started_pids: list[int] = field(default_factory=list)
    """The scenario's start command (its CPU is a group of its own)."""
    employees: int = accounts.EMPLOYEES

    @classmethod
    def for_scenario(
        cls, scenario: Scenario, steps: list[tuple[float | None, float]], **where: object
    ) -> Plan:
        return cls(
            steps=steps,
            stop=scenario.slo if scenario.search else None,
            fixed_users=dict(scenario.fixed_users),
            fixed_rates=dict(scenario.fixed_rates),
            components=dict(scenario.components),
            **where,  # type: ignore[arg-type]
        )

    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls) -> Plan:
        raw = os.environ.get(ENV)
        if not raw:
            return cls()
        data = json.loads(raw)
        data["steps"] = [tuple(step) for step in data["steps"]]
        data["stop"] = Slo(**data["stop"]) if data["stop"] else None
        return cls(**data)
