"""A scenario's measured steps, as every load generator records them.

Both generators (locust through ammo/locustfile.py, and ammo/pacer.py) keep the latency of
every response of a step, by request name, and take CPU snapshots around the step; this module
turns that into the rows of the plan's steps CSV, the one format the driver and the report
read, and says when a search stops.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence

from ammo.scenarios import Slo

AGGREGATED = "Aggregated"


def percentile(ordered: Sequence[float], share: float) -> float:
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def rows(
    step: int,
    rate: float | None,
    seconds: float,
    samples: Mapping[str, list[float]],
    failures: Mapping[str, int],
) -> list[dict[str, object]]:
    """One row per request name and one for all of them: exact percentiles, in ms."""
    result = []
    everything: list[float] = []
    failed = 0
    for name in [*sorted(samples), AGGREGATED]:
        if name == AGGREGATED:
            times, fails = sorted(everything), failed
        else:
            times = sorted(samples[name])
            fails = failures.get(name, 0)
            everything += times
            failed += fails
        result.append(
            {
                "step": step,
                "target_rps": "max" if rate is None else f"{rate:g}",
                "name": name,
                "seconds": round(seconds, 2),
                "requests": len(times),
                "failures": fails,
                "rps": round(len(times) / seconds, 1) if seconds else 0.0,
                "p50_ms": round(percentile(times, 0.50), 2),
                "p95_ms": round(percentile(times, 0.95), 2),
                "p99_ms": round(percentile(times, 0.99), 2),
                "max_ms": round(times[-1], 2) if times else 0.0,
            }
        )
    return result


def missed(step_rows: list[dict[str, object]], rate: float | None, stop: Slo | None) -> bool:
    """In a search (`stop` set), whether this step missed the SLO: no faster step is run."""
    if stop is None:
        return False
    row = next((r for r in step_rows if r["name"] == stop.endpoint), None)
    return row is None or not stop.met(row, rate)


def describe(step: int, total: Mapping[str, object]) -> str:
    """The line a generator prints after each step (the driver echoes it)."""
    return (
        f"step {step} target {total['target_rps']}/s: {total['rps']}/s "
        f"p50 {total['p50_ms']} ms p99 {total['p99_ms']} ms failures {total['failures']}"
    )


def write(path: str, all_rows: list[dict[str, object]]) -> None:
    if not path or not all_rows:
        return
    with open(path, "w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(all_rows[0]))
        writer.writeheader()
        writer.writerows(all_rows)
