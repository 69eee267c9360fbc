"""CPU time of the machine and of each part of the benchmark, from Linux /proc.

Groups: the service (the given pids and their children), the generator (the calling process
and its children: the load generator's own cost, locust or ammo/pacer.py), PostgreSQL
backends serving DBNAME (their process title names the database), what a scenario's start
command started (its process tree), extra components named by a substring of their command
line (a proxy, a pooler) and everything else on the machine. Two snapshots taken around a
measured window tell how much of the machine each part used and how much other work was
running at the same time. Both generators take them around each step.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping

TICK = os.sysconf("SC_CLK_TCK")


def machine() -> tuple[float, float, float]:
    """(busy, total, stolen) CPU seconds of the whole machine since boot.

    Stolen time is what the hypervisor gave to other virtual machines while this one had
    work to run: busy for the count, but nothing here used it.
    """
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    steal = fields[7] if len(fields) > 7 else 0
    return (sum(fields) - idle) / TICK, sum(fields) / TICK, steal / TICK


def _after_name(stat: str) -> list[str]:
    """The fields of a /proc/PID/stat line after the command name (which may hold spaces)."""
    return stat.rsplit(")", 1)[1].split()


def _seconds(fields: list[str]) -> float:
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def seconds(pid: int) -> float:
    """CPU seconds (user + system) one process has used so far."""
    with open(f"/proc/{pid}/stat") as f:
        return _seconds(_after_name(f.read()))


def processes() -> dict[int, tuple[int, str, float]]:
    """pid -> (ppid, command line, CPU seconds) for every process still running."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        rest = _after_name(stat)
        found[int(entry)] = (int(rest[1]), cmdline, _seconds(rest))
    return found


def _tree(procs: dict[int, tuple[int, str, float]], roots: set[int]) -> set[int]:
    """The roots and their descendants (three generations are enough here)."""
    found = set(roots)
    for _ in range(3):
        found |= {pid for pid, (ppid, _, _) in procs.items() if ppid in found}
    return found


def snapshot(
    dbname: str,
    roots: set[int],
    components: Mapping[str, str] | None = None,
    started: set[int] | None = None,
) -> dict[str, object]:
    """CPU seconds so far per group; `started` roots (a scenario's own target) make a group."""
    procs = processes()
    service = _tree(procs, roots)
    generator = _tree(procs, {os.getpid()})
    target = _tree(procs, started) if started else set()
    extra = dict(components or {})
    groups = ("service", "generator", "postgres", *(["started"] if started else []), *extra)
    pids: dict[str, dict[int, float]] = {g: {} for g in groups}
    # A component the started tree runs (a topology: nginx and PgBouncer beside the replicas)
    # counts as itself, and then only that one: other nginx processes on the machine are not it.
    ours = service | target
    running = [procs[pid][1] for pid in ours if pid in procs]
    inside = {label for label, part in extra.items() if any(part in c for c in running)}
    for pid, (_, cmdline, used) in procs.items():
        group = next(
            (
                label
                for label, part in extra.items()
                if part in cmdline and (pid in ours or label not in inside)
            ),
            "",
        )
        if not group and pid in service:
            group = "service"
        elif not group and pid in target:
            group = "started"
        elif not group and pid in generator:
            group = "generator"
        elif not group and cmdline.startswith("postgres:") and f" {dbname} " in cmdline:
            group = "postgres"
        if group:
            pids[group][pid] = used
    busy, total, stolen = machine()
    return {"time": time.time(), "busy": busy, "total": total, "stolen": stolen, "pids": pids}


def usage(before: dict[str, object], after: dict[str, object]) -> dict[str, float]:
    """Percent of one core used by each group between two snapshots (the machine has nproc)."""
    seconds = float(after["time"]) - float(before["time"])  # type: ignore[arg-type]
    result = {}
    ours = 0.0
    for group, now in after["pids"].items():  # type: ignore[attr-defined]
        then = before["pids"][group]  # type: ignore[index]
        # A process that started during the window (a pool connection opened by its first
        # requests) used all its CPU inside it.
        used = sum(cpu - then.get(pid, 0.0) for pid, cpu in now.items())
        result[group] = round(100 * used / seconds, 1)
        ours += used
    busy = float(after["busy"]) - float(before["busy"])  # type: ignore[arg-type]
    stolen = float(after["stolen"]) - float(before["stolen"])  # type: ignore[arg-type]
    result["other"] = round(100 * max(0.0, busy - ours - stolen) / seconds, 1)
    result["stolen"] = round(100 * stolen / seconds, 1)
    result["machine_busy"] = round(100 * busy / seconds, 1)
    result["machine_cores"] = os.cpu_count() or 1
    return result
