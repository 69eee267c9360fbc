"""The load suite still works: the driver runs scenarios against a real `shop serve`, and the
report judges what it is given.

The run is scaled down to tiny rates and 2-second steps (`--smoke`), so nothing here depends
on how fast the machine is: only that every scenario ran, was audited and was reported.
Verdicts are checked on synthetic figures instead.
"""

from __future__ import annotations

import copy
import os
import random
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ammo import report, results
from ammo.scenarios import SCENARIOS, by_name
from tests.conftest import create_database, drop_database

ROOT = Path(__file__).resolve().parents[2]
RUN = ("ceiling", "mixed_steps", "storm")
"""One of each kind: the yardstick, a paced search, a fixed-rate class beside an unpaced one."""


def two_free_ports() -> int:
    """A port p such that p and p + 1 are both free now (the service and the ceiling app)."""
    for _ in range(100):
        port = random.randint(20_000, 40_000)
        try:
            with socket.socket() as a, socket.socket() as b:
                a.bind(("127.0.0.1", port))
                b.bind(("127.0.0.1", port + 1))
        except OSError:
            continue
        return port
    raise AssertionError("no two consecutive free ports")


@pytest.fixture(scope="module")
def smoke_run(admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Results of `python -m ammo run --smoke` of RUN on a database of this test's own."""
    out = tmp_path_factory.mktemp("ammo")
    argv = [
        sys.executable, "-m", "ammo", "run", "--smoke", "--results", str(out),
        "--port", str(two_free_ports()), *RUN,
    ]  # fmt: skip
    name, url = create_database(admin_url)
    try:
        done = subprocess.run(
            [*argv, "--database-url", url],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=600,  # a hang guard only
            check=False,
        )
    finally:
        drop_database(admin_url, name)
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def summary(report_text: str) -> dict[str, str]:
    """Summary rows of REPORT.md by scenario name."""
    section = report_text.split("## Summary", 1)[1].split("\n\n", 2)[1]
    rows = [line.split(" | ") for line in section.splitlines()[2:]]
    return {cells[0].lstrip("| "): " | ".join(cells[1:]) for cells in rows}


def test_smoke_run_reports_every_scenario_it_ran(smoke_run: Path) -> None:
    text = (smoke_run / "REPORT.md").read_text()
    rows = summary(text)
    assert "smoke run of the driver" in text
    for name in RUN:
        assert name in rows
        assert "no measurement" not in rows[name]
        assert (smoke_run / f"{name}.png").exists()
    data = results.load(smoke_run)
    assert [s["scenario"]["name"] for s in data["scenarios"]] == list(RUN)
    served = sum(r["requests"] for s in data["scenarios"] for r in s["steps"])
    assert served > 0
    assert all(s["audit"]["passed"] for s in data["scenarios"] if s["scenario"]["audit"])
    assert data["info_history"]["http"]["heavy"]["runs"] == 10


def test_smoke_run_gives_each_part_its_cpu_per_request(smoke_run: Path) -> None:
    text = (smoke_run / "REPORT.md").read_text()
    assert "| scenario | generator | target/s | RPS | service | PostgreSQL | generator |" in text
    data = results.load(smoke_run)
    for scenario in data["scenarios"]:
        for row in scenario["steps"]:
            assert {"service", "postgres", "generator", "other", "machine_busy"} <= set(row)


def test_report_rerenders_byte_for_byte_from_results_json(smoke_run: Path) -> None:
    files = ["REPORT.md", *(f"{name}.png" for name in RUN)]
    before = {f: (smoke_run / f).read_bytes() for f in files}
    for f in files:
        (smoke_run / f).unlink()
    report.render(smoke_run)
    assert {f: (smoke_run / f).read_bytes() for f in files} == before


def with_steps(recorded: dict[str, Any], p99_ms: float) -> dict[str, Any]:
    """The recorded scenario with every step at its target rate, 0 failures and this p99."""
    changed = copy.deepcopy(recorded)
    for step in changed["steps"]:
        target = step["target_rps"]
        step["failures"] = 0
        step["p99_ms"] = p99_ms
        if target != "max" and step["name"] == "Aggregated":
            step["rps"] = float(target)
    return changed


@pytest.mark.parametrize("p99_ms", [10_000.0, 1.0])
def test_report_judges_each_scenario_against_its_slo(
    smoke_run: Path, tmp_path: Path, p99_ms: float
) -> None:
    data = results.load(smoke_run)
    data["scenarios"] = [with_steps(s, p99_ms) for s in data["scenarios"]]
    results.save(tmp_path, data)
    rows = summary(report.render(tmp_path).read_text())
    searched = next(s for s in data["scenarios"] if s["scenario"]["name"] == "mixed_steps")
    fastest = max(float(r["target_rps"]) for r in searched["steps"])
    if p99_ms > 50:
        assert rows["mixed_steps"].startswith("**no rate met the SLO**")
        assert rows["storm"].startswith("**missed**")
        assert f"p99 {p99_ms} ms (missed)" in rows["storm"]
    else:
        assert rows["mixed_steps"].startswith(f"highest good rate **{fastest:g}/s** (")
        assert "of the ceiling" in rows["mixed_steps"]
        assert rows["storm"].startswith("**ok**")
        assert f"p99 {p99_ms} ms (ok)" in rows["storm"]


def test_every_scenario_names_user_classes_the_locustfile_defines() -> None:
    source = (ROOT / "ammo" / "locustfile.py").read_text()
    for scenario in SCENARIOS:
        for cls in scenario.classes:
            assert f"\nclass {cls}(" in source, (scenario.name, cls)
    assert [s.name for s in by_name(None)] == [s.name for s in SCENARIOS if s.default]


def test_report_needs_nothing_but_results_json(smoke_run: Path, tmp_path: Path) -> None:
    """As in git: results.json without locust's CSVs, logs and profiles."""
    (tmp_path / results.FILE).write_bytes((smoke_run / results.FILE).read_bytes())
    report.render(tmp_path)
    for name in ["REPORT.md", *(f"{n}.png" for n in RUN)]:
        assert (tmp_path / name).read_bytes() == (smoke_run / name).read_bytes()


def test_report_sets_a_compared_scenario_beside_its_baseline(
    smoke_run: Path, tmp_path: Path
) -> None:
    data = results.load(smoke_run)
    base = next(s for s in data["scenarios"] if s["scenario"]["name"] == "mixed_steps")
    other = copy.deepcopy(base)
    other["scenario"] |= {"name": "mixed_steps_proxied", "compare_with": "mixed_steps"}
    other["cpu_groups"] = [*base["cpu_groups"], "nginx"]
    for row in other["steps"]:
        row["p50_ms"] += 1.5
        row["nginx"] = 10.0
    data["scenarios"].append(other)
    results.save(tmp_path, data)
    text = report.render(tmp_path).read_text()
    section = text.split("## Side by side", 1)[1].split("\n## ", 1)[0]
    assert "### `mixed_steps_proxied` beside `mixed_steps`" in section
    first = base["steps"][-1]
    label = f"{float(first['target_rps']):g}"
    p50 = first["p50_ms"]
    assert f"| {label} | p50 ms | {p50:g} | {p50 + 1.5:g} | +1.50 |" in section
    nginx_ms = round(10.0 * 10 / first["rps"], 2)
    assert f"| {label} | CPU nginx ms/req | 0 | {nginx_ms:g} | +{nginx_ms:.2f} |" in section
