"""Judge a recorded scenario against its SLO and pick the figures compared across runs.

Works from the scenario row as it was run (kept in results.json), so nothing here names a
scenario: a new row in ammo/scenarios.py is judged and summarised like the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ammo.results import Results
from ammo.scenarios import Scenario, from_dict

AGGREGATED = "Aggregated"
Row = dict[str, Any]


@dataclass(frozen=True)
class Outcome:
    """One step of a scenario: its rows and whether it met the SLO (None: not judged)."""

    rate: float | None
    rows: list[Row]
    ok: bool | None

    def row(self, name: str = AGGREGATED) -> Row | None:
        return next((r for r in self.rows if r["name"] == name), None)

    @property
    def total(self) -> Row:
        row = self.row()
        assert row is not None  # noqa: S101 - a generator always writes it
        return row

    @property
    def label(self) -> str:
        return "max" if self.rate is None else f"{self.rate:g}"


@dataclass(frozen=True)
class Judged:
    scenario: Scenario
    steps: list[Outcome]
    cpu_groups: list[str]
    raw: dict[str, Any]

    @property
    def judged(self) -> list[Outcome]:
        return [o for o in self.steps if o.ok is not None]

    @property
    def ok(self) -> bool | None:
        """Search: some step was good; otherwise: every judged step was (None: none judged)."""
        if not self.judged:
            return None
        if self.scenario.search:
            return any(o.ok for o in self.judged)
        return all(o.ok for o in self.judged)

    @property
    def best_rate(self) -> float | None:
        """The highest paced rate among the good steps."""
        return max((o.rate for o in self.judged if o.ok and o.rate is not None), default=None)

    def endpoint(self, outcome: Outcome) -> Row | None:
        """The row the SLO looks at (all requests unless it names an endpoint)."""
        return outcome.row(self.scenario.slo.endpoint if self.scenario.slo else AGGREGATED)

    def throughput(self, outcome: Outcome, prefix: str) -> float:
        """Successful requests per second of the endpoints named with this prefix."""
        rows = [r for r in outcome.rows if r["name"].startswith(prefix)]
        return sum((r["requests"] - r["failures"]) / (r["seconds"] or 1.0) for r in rows)


def judge(recorded: dict[str, Any]) -> Judged:
    scenario = from_dict(recorded["scenario"])
    rows: list[Row] = recorded["steps"]
    outcomes = []
    for index, step in enumerate(scenario.steps):
        mine = [r for r in rows if r["step"] == index]
        if not mine:
            break  # a search stopped before this step
        ok: bool | None = None
        if scenario.slo is not None and step.judged:
            row = next((r for r in mine if r["name"] == scenario.slo.endpoint), None)
            ok = row is not None and scenario.slo.met(row, step.rate)
        outcomes.append(Outcome(step.rate, mine, ok))
    return Judged(scenario, outcomes, recorded["cpu_groups"], recorded)


def judge_all(results: Results) -> list[Judged]:
    return [judge(s) for s in results["scenarios"]]


def ceiling_rps(judged: list[Judged]) -> float | None:
    """The yardstick scenario's served rate (its first step), if it ran."""
    for j in judged:
        if j.scenario.yardstick and j.steps:
            return float(j.steps[0].total["rps"])
    return None


def per_request_ms(row: Row, group: str) -> float:
    """CPU ms of one group per request served in the step (% of a core * 10 / rps)."""
    return round(float(row.get(group, 0.0)) * 10 / (float(row["rps"]) or 1.0), 2)


def _slug(endpoint: str) -> str:
    return endpoint.strip("/").split("/")[-1].replace("[", "").replace("]", "")


def key_figures(results: Results) -> dict[str, object]:
    """The few numbers compared across runs (results/history/*.json)."""
    judged = judge_all(results)
    ceiling = ceiling_rps(judged)
    figures: dict[str, object] = {
        "run": results["run_id"],
        "code": results["code"],
        "cpu": results["machine"].get("CPU", ""),
    }
    for j in judged:
        name, s = j.scenario.name, j.scenario
        if not j.steps or s.profile:
            continue
        figures[f"{name}_other_cpu"] = max(float(o.total.get("other", 0.0)) for o in j.steps)
        if s.search:
            best = j.best_rate or 0.0
            figures[f"{name}_best_rate"] = best
            if ceiling:
                figures[f"{name}_best_share_of_ceiling"] = round(best / ceiling, 3)
        else:
            for o in j.steps:
                key = name if len(j.steps) == 1 else f"{name}_{o.label}"
                figures[f"{key}_rps"] = o.total["rps"]
                figures[f"{key}_p50_ms"] = o.total["p50_ms"]
                figures[f"{key}_p99_ms"] = o.total["p99_ms"]
                endpoint = j.endpoint(o)
                if s.slo and s.slo.endpoint != AGGREGATED and endpoint:
                    figures[f"{key}_{_slug(s.slo.endpoint)}_rps"] = endpoint["rps"]
                    figures[f"{key}_{_slug(s.slo.endpoint)}_p99_ms"] = endpoint["p99_ms"]
                for t in s.throughput:
                    figures[f"{key}_{t.label}_per_s"] = round(j.throughput(o, t.prefix), 1)
                if len(j.steps) == 1:
                    for group in j.cpu_groups:
                        figures[f"{key}_{group}_ms_per_req"] = per_request_ms(o.total, group)
            figures[f"{name}_failures"] = sum(int(o.total["failures"]) for o in j.steps)
    info = results.get("info_history")
    if info:
        figures["info_http_ratio"] = info["http_ratio"]
        figures["info_sql_ratio"] = info["sql_ratio"]
    audits = [s["audit"] for s in results["scenarios"] if s.get("audit")]
    figures["audits_passed"] = f"{sum(a['passed'] for a in audits)}/{len(audits)}"
    return figures
