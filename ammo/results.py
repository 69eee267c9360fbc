"""The one file a run leaves behind (results/results.json), and reading generators' files into it.

Everything the report shows comes from this file (plus results/history/ and tuning.md), so
re-rendering it gives the same REPORT.md and charts. The per-run scratch files it is built
from (the generators' CSVs and logs, py-spy's raw profiles) are not kept in git.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path
from typing import Any

FILE = "results.json"
TEXT_FIELDS = ("name", "target_rps")

Results = dict[str, Any]


def load(results_dir: Path) -> Results:
    return json.loads((results_dir / FILE).read_text())


def save(results_dir: Path, results: Results) -> Path:
    path = results_dir / FILE
    path.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    return path


def _number(value: str) -> int | float:
    return int(value) if value.lstrip("-").isdigit() else float(value)


def read_steps(path: Path) -> list[dict[str, Any]]:
    """The generator's per-step rows (ammo/steps.py), numbers as numbers."""
    if not path.exists():
        return []
    with path.open() as f:
        return [
            {k: v if k in TEXT_FIELDS else _number(v) for k, v in row.items()}
            for row in csv.DictReader(f)
        ]


def read_series(path: Path) -> dict[str, list[float]]:
    """The generator's per-second history, all requests: the charts' data (t from the first row)."""
    if not path.exists():
        return {}
    with path.open() as f:
        rows = [r for r in csv.DictReader(f) if r["Name"] == "Aggregated" and r["50%"] != "N/A"]
    if not rows:
        return {}
    start = int(rows[0]["Timestamp"])
    return {
        "t": [int(r["Timestamp"]) - start for r in rows],
        "rps": [float(r["Requests/s"]) for r in rows],
        "failures_per_s": [float(r["Failures/s"]) for r in rows],
        "p50_ms": [float(r["50%"]) for r in rows],
        "p99_ms": [float(r["99%"]) for r in rows],
    }


def read_profile(files: list[Path], keep: int = 40) -> dict[str, Any] | None:
    """py-spy raw profiles summed: busy samples, and the top frames inclusive and by self time.

    Frames of shop/, asyncpg and PyJWT come first among the inclusive ones (they are what the
    service can change); the self-time list is whatever dominates.
    """
    if not files:
        return None
    total = 0
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    for file in files:
        for line in file.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not count.isdigit():
                continue
            frames = stack.split(";")
            total += int(count)
            own[frames[-1]] += int(count)
            for frame in set(frames):
                inclusive[frame] += int(count)
    ours = [
        [frame, n]
        for frame, n in sorted(inclusive.items(), key=lambda item: (-item[1], item[0]))
        if "/shop/" in frame or "(shop/" in frame or "asyncpg" in frame or "jwt" in frame
    ]
    by_self = sorted(own.items(), key=lambda item: (-item[1], item[0]))
    return {
        "files": len(files),
        "samples": total,
        "inclusive": ours[:keep],
        "self": [list(item) for item in by_self[:keep]],
    }
