"""Render results/results.json into REPORT.md and one chart per scenario.

    python -m ammo report [RESULTS_DIR]

A pure function of results.json, the earlier runs in results/history/ (those recorded up to
this run) and ammo/tuning.md: re-rendering gives the same bytes. With `record` (a full run),
this run's key figures are first added to results/history/.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from ammo import charts, judge, results
from ammo.judge import AGGREGATED, Judged, Outcome
from ammo.scenarios import INFO_HISTORY_MAX_RATIO

TUNING = Path(__file__).with_name("tuning.md")


def render(results_dir: Path, *, record: bool = False) -> Path:
    data = results.load(results_dir)
    judged = judge.judge_all(data)
    figures = judge.key_figures(data)
    if record:
        (results_dir / "history").mkdir(exist_ok=True)
        path = results_dir / "history" / f"{figures['run']}.json"
        path.write_text(json.dumps(figures, indent=1) + "\n")
    ceiling = judge.ceiling_rps(judged)
    body: list[str] = []
    for j in judged:
        body += scenario_section(j, None if j.scenario.yardstick else ceiling, results_dir)
    lines = [
        *header(data),
        "## Summary",
        "",
        "| scenario | result | SLO |",
        "|---|---|---|",
        *[summary_row(j, ceiling, data) for j in judged],
        info_summary(data),
        "",
        noise_note(judged, int(data["machine"].get("nproc") or 1)),
        "",
        *cpu_summary(judged),
        *side_by_side(judged),
        "Percentiles in the tables are exact, computed by the generator from every response "
        "of the measured window (after all virtual users logged in), each latency from when "
        "the request was handed to the client; ammo/pacer.py keeps its schedule open loop and "
        "records how late it handed requests over (`lag_p99_ms` in results.json). The charts "
        "come from the generator's per-second history (locust's percentiles cover a rolling "
        "window of recent requests, the pacer's each second's answers).",
        "",
        *body,
        *info_section(data),
        *history_section(results_dir, figures),
        *profile_section(judged),
    ]
    if TUNING.exists():
        lines += ["", TUNING.read_text().strip(), ""]
    out = results_dir / "REPORT.md"
    out.write_text("\n".join(lines) + "\n")
    return out


def header(data: results.Results) -> list[str]:
    lines = ["# Load test report", ""]
    if data.get("scaled"):
        lines += ["**A scaled-down smoke run of the driver: these figures measure nothing.**", ""]
    lines += [
        f"Run `{data['run_id']}` finished {data['finished']} (`python -m ammo run`, total "
        f"{data['total_seconds']} s). Every figure down to *Repeated runs* was measured in that "
        "one run; nothing is typed in by hand except the tuning notes at the end.",
        "",
        "## Machine",
        "",
        *[f"- {key}: {value}" for key, value in data["machine"].items()],
        "",
        "PostgreSQL, the service and the load generator share these cores; the CPU tables "
        "give each one's share, the generator's included.",
        "",
        "## Set-up",
        "",
        *[f"- {key}: {value}" for key, value in data["settings"].items()],
        "",
    ]
    return lines


def mark(ok: bool | None) -> str:
    return "not judged" if ok is None else "ok" if ok else "missed"


def summary_row(j: Judged, ceiling: float | None, data: results.Results) -> str:
    s = j.scenario
    if not j.steps:
        code = j.raw["generator_exit"]
        return f"| {s.name} | **no measurement** ({s.generator} exit {code}) | |"
    parts = []
    for o in j.steps:
        row = j.endpoint(o) or o.total
        subject = "" if row["name"] == AGGREGATED else f"{row['name']} "
        text = f"{o.label}/s: {subject}{row['rps']}/s p99 {row['p99_ms']} ms"
        if s.slo:
            text += f" ({mark(o.ok)})"
        for t in s.throughput:
            per_s = j.throughput(o, t.prefix)
            text += f", {t.label} {per_s:.1f}/s"
            capacity = data["hash_capacity"]["verifies_per_s"]
            if t.of_hashing_capacity and capacity:
                text += f" ({per_s / capacity:.0%} of the {capacity}/s hashing capacity)"
        parts.append(text)
    lead = ""
    if j.ok is not None:
        best = j.best_rate
        if s.search:
            lead = f"highest good rate **{best:g}/s**" if best else "**no rate met the SLO**"
        else:
            lead = "**ok**" if j.ok else "**missed**"
        if best and ceiling:
            lead += f" ({best:g}/s = {best / ceiling:.0%} of the ceiling)"
        if s.ceiling_share is not None and ceiling:
            met = best is not None and best / ceiling >= s.ceiling_share
            lead += f", efficiency goal {'met' if met else '**missed**'}"
        lead += "; "
    slo = s.slo.describe() if s.slo else ""
    if s.ceiling_share is not None:
        slo += f"; highest good rate ≥ {s.ceiling_share:.0%} of the ceiling"
    return f"| {s.name} | {lead}{'; '.join(parts)} | {slo} |"


def cpu_summary(judged: list[Judged]) -> list[str]:
    """CPU per request of each part, the load generator next to what it measures."""
    lines = [
        "CPU per request served, in ms of one core (*generator* is the load generator's own "
        "cost, paid on the same cores: locust, or ammo/pacer.py for the `pacer` rows):",
        "",
        "| scenario | generator | target/s | RPS | service | PostgreSQL | generator "
        "| other parts | generator share |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for j in judged:
        for o in j.steps:
            row = o.total
            ms = {g: judge.per_request_ms(row, g) for g in j.cpu_groups}
            extra = ", ".join(f"{g} {v:.2f}" for g, v in ms.items() if g not in BASE_GROUPS)
            spent = sum(ms.values()) or 1.0
            lines.append(
                f"| {j.scenario.name} | {j.scenario.generator} | {o.label} | {row['rps']} "
                f"| {ms['service']:.2f} | {ms['postgres']:.2f} | {ms['generator']:.2f} | {extra} "
                f"| {ms['generator'] / spent:.0%} |"
            )
    return [*lines, ""]


BASE_GROUPS = ("service", "postgres", "generator")
GROUP_NAMES = {"postgres": "PostgreSQL"}


def side_by_side(judged: list[Judged]) -> list[str]:
    """Each row that names another in `compare_with` beside it, step by step (same rates).

    The difference is this row minus the other: for a topology with more parts, what those
    parts add to the latency and to the CPU spent per request.
    """
    known = {j.scenario.name: j for j in judged}
    pairs = [
        (known[j.scenario.compare_with], j) for j in judged if j.scenario.compare_with in known
    ]
    if not pairs:
        return []
    lines = [
        "## Side by side",
        "",
        "Scenarios run in this run at the same rates, the second named beside the first "
        "(`compare_with`); *difference* is the second minus the first. CPU in ms of one core "
        "per request served; *server side* is every part but the load generator.",
        "",
    ]
    for first, second in pairs:
        a, b = first.scenario.name, second.scenario.name
        lines += [f"### `{b}` beside `{a}`", ""]
        slo = second.scenario.slo
        if slo and (second.scenario.search or first.scenario.search):
            lines += [
                f"Highest rate with the SLO met ({slo.describe()}): `{a}` {rate_text(first)}, "
                f"`{b}` {rate_text(second)}.",
                "",
            ]
        steps = [(x, y) for x in first.steps for y in second.steps if x.label == y.label]
        lines += [
            "| target/s | figure | " + f"`{a}` | `{b}` | difference |",
            "|---|---|---|---|---|",
        ]
        groups = list(dict.fromkeys([*first.cpu_groups, *second.cpu_groups]))
        for x, y in steps:
            figures = [
                ("RPS", x.total["rps"], y.total["rps"]),
                ("p50 ms", x.total["p50_ms"], y.total["p50_ms"]),
                ("p99 ms", x.total["p99_ms"], y.total["p99_ms"]),
                ("failures", x.total["failures"], y.total["failures"]),
                *[
                    (
                        f"CPU {GROUP_NAMES.get(g, g)} ms/req",
                        judge.per_request_ms(x.total, g),
                        judge.per_request_ms(y.total, g),
                    )
                    for g in groups
                ],
                ("CPU server side ms/req", server_side(x, groups), server_side(y, groups)),
                ("CPU other work, % of a core", x.total["other"], y.total["other"]),
            ]
            for label, one, two in figures:
                lines.append(
                    f"| {x.label} | {label} | {one:g} | {two:g} | {float(two) - float(one):+.2f} |"
                )
        lines.append("")
    return lines


def rate_text(j: Judged) -> str:
    return f"**{j.best_rate:g}/s**" if j.best_rate else "**none**"


def server_side(outcome: Outcome, groups: list[str]) -> float:
    """CPU ms per request of every part but the load generator (absent parts count 0)."""
    return round(sum(judge.per_request_ms(outcome.total, g) for g in groups if g != "generator"), 2)


def scenario_section(j: Judged, ceiling: float | None, results_dir: Path) -> list[str]:
    s = j.scenario
    steps = ", ".join(
        f"{st.rate:g}/s" if st.rate is not None else "as fast as it goes" for st in s.steps
    )
    lines = [
        f"## {s.title}",
        "",
        s.what,
        "",
        f"Scenario `{s.name}`: {', '.join(s.classes)}, {s.users} users, steps {steps} "
        f"({', '.join(f'{st.seconds:g} s' for st in s.steps)}) against `{s.target}`.",
        "",
    ]
    if not j.steps:
        return [*lines, f"**No measurement: {s.generator} wrote no steps.**", ""]
    lines += steps_table(j.steps, ceiling)
    lines += cpu_table(j)
    if charts.chart(j.raw["series"], s.title, results_dir / f"{s.name}.png"):
        lines += ["", f"![{s.title}]({s.name}.png)"]
    audit = j.raw.get("audit")
    if audit:
        verdict = "passed" if audit["passed"] else "**FAILED**"
        first = audit["text"].splitlines()[0] if audit["text"] else ""
        lines += ["", f"`shop audit` after this scenario {verdict}: {first}"]
    return [*lines, ""]


def steps_table(steps: list[Outcome], ceiling: float | None) -> list[str]:
    lines = [
        "| step | target/s | endpoint | requests | RPS | p50 ms | p95 ms | p99 ms | max ms "
        "| failures | of ceiling |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for o in steps:
        for r in o.rows:
            total = r["name"] == AGGREGATED
            ratio = f"{r['rps'] / ceiling:.0%}" if ceiling and total else ""
            name = f"**{r['name']}**" if total else r["name"]
            lines.append(
                f"| {r['step']} | {r['target_rps']} | {name} | {r['requests']} | {r['rps']} "
                f"| {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} | {r['max_ms']} "
                f"| {r['failures']} | {ratio} |"
            )
    return lines


def cpu_table(j: Judged) -> list[str]:
    groups = j.cpu_groups
    names = {"postgres": "PostgreSQL"}
    lines = [
        "",
        "CPU during each step, % of one core (*other* is work outside this benchmark, the "
        "kernel's own threads and PostgreSQL's background processes included; *stolen* is "
        "time the hypervisor gave to other virtual machines):",
        "",
        "| step | target/s | "
        + " | ".join(names.get(g, g) for g in groups)
        + " | other | stolen | machine busy | "
        + " | ".join(f"{names.get(g, g)} ms/req" for g in groups)
        + " |",
        "|---|---|" + "---|" * (2 * len(groups) + 3),
    ]
    for o in j.steps:
        r = o.total
        lines.append(
            f"| {r['step']} | {r['target_rps']} | "
            + " | ".join(str(r.get(g, "-")) for g in groups)
            + f" | {r['other']} | {r['stolen']} | {r['machine_busy']} | "
            + " | ".join(f"{judge.per_request_ms(r, g):.2f}" for g in groups)
            + " |"
        )
    return lines


def noise_note(judged: list[Judged], cores: int) -> str:
    """Say how much of the machine other work and the hypervisor took while scenarios ran."""
    rows = [o.total for j in judged for o in j.steps]
    if not rows:
        return ""
    other = [float(r["other"]) + float(r["stolen"]) for r in rows]
    stolen = [float(r["stolen"]) for r in rows]
    typical = statistics.median(other)
    text = (
        f"While the scenarios ran, work outside this benchmark and time stolen by the "
        f"hypervisor took a median of {typical:.0f}% and at most {max(other):.0f}% of one core "
        f"(of {cores}); stolen time alone, a median of {statistics.median(stolen):.0f}%."
    )
    if typical > 25:
        text += (
            " **These figures are disturbed**: the service, PostgreSQL and the generator had only "
            "what was left. Compare the CPU per request and the ratios to the ceiling, which "
            "was measured under the same conditions, rather than the absolute rates."
        )
    return text


def info_summary(data: results.Results) -> str:
    info = data.get("info_history")
    if not info:
        return "| /api/info, long history | not measured | |"
    ok = info["http_ratio"] <= INFO_HISTORY_MAX_RATIO
    return (
        f"| /api/info, 10k transfers + 10k purchases vs new employee | **{mark(ok)}**: "
        f"request {info['http_ratio']}x ({info['http']['heavy']['median_ms']} vs "
        f"{info['http']['newcomer']['median_ms']} ms); SQL statement alone "
        f"{info['sql_ratio']}x ({info['sql']['heavy']['median_ms']} vs "
        f"{info['sql']['newcomer']['median_ms']} ms) | request within "
        f"{INFO_HISTORY_MAX_RATIO:g}x |"
    )


def info_section(data: results.Results) -> list[str]:
    info = data.get("info_history")
    if not info:
        return []
    sql, held, http = info["sql"], info["sql_held"], info["http"]
    return [
        "## /api/info with a long history",
        "",
        f"`{info['heavy']}` has 10,000 transfers to 100 colleagues, 10,000 purchases and "
        f"transfers received from 10 colleagues; `{info['newcomer']}` has no history. Each "
        "measurement alternates the two, sequentially, on an otherwise idle service.",
        "",
        "| measurement | long history | new employee | ratio |",
        "|---|---|---|---|",
        f"| GET /api/info end to end, one connection, median of {http['heavy']['runs']} "
        f"| {http['heavy']['median_ms']} ms | {http['newcomer']['median_ms']} ms "
        f"| {info['http_ratio']}x |",
        f"| same, p90 | {http['heavy']['p90_ms']} ms | {http['newcomer']['p90_ms']} ms | |",
        f"| info statement, EXPLAIN ANALYZE execution time, median of {sql['heavy']['runs']} "
        f"| {sql['heavy']['median_ms']} ms | {sql['newcomer']['median_ms']} ms "
        f"| {info['sql_ratio']}x |",
        f"| same, when the worker already holds the current body "
        f"| {held['heavy']['median_ms']} ms | {held['newcomer']['median_ms']} ms | |",
        f"| response body | {http['heavy']['body_bytes']} bytes "
        f"| {http['newcomer']['body_bytes']} bytes | |",
        "",
        "The statement reads only the running aggregates (one row per counterparty and item "
        "type), never the 20,000 ledger rows; what the long-history employee still costs "
        "more is the ~110 counterparties and 2 item types its answer must list. That is paid "
        "once per change of the wallet: the end-to-end requests here repeat the same read, "
        "so after the first one each worker re-sends its copy of the body, and the statement "
        "only confirms that the wallet's version is unchanged (the last SQL row).",
        "",
    ]


def history_section(results_dir: Path, current: dict[str, object]) -> list[str]:
    """Key figures of the recorded runs up to this one on this CPU, and their medians.

    Runs on another CPU model are listed apart: their figures do not compare with these.
    """
    runs = [json.loads(p.read_text()) for p in sorted((results_dir / "history").glob("*.json"))]
    runs = [r for r in runs if str(r.get("run", "")) <= str(current["run"])]
    if not any(r.get("run") == current["run"] for r in runs):
        runs.append(current)
    here = [r for r in runs if r.get("cpu") == current.get("cpu")]
    elsewhere = [r for r in runs if r.get("cpu") != current.get("cpu")]
    same = [r.get("code") == current.get("code") for r in here]
    lines = [
        "## Repeated runs",
        "",
        f"Key figures of the {len(here)} recorded full runs on this CPU "
        f"({current.get('cpu')}; `results/history/`). *code* is the last commit that changed "
        f"shop/ or migrations/; the median is taken over the {sum(same)} run(s) of this "
        "report's code only. *other_cpu* is the most that work outside the benchmark took "
        "during any step of that scenario, in % of one core.",
        "",
        *history_table(here, current, same),
    ]
    if elsewhere:
        lines += [
            f"The {len(elsewhere)} runs below were made on machines with another CPU model, "
            "so they are kept for comparison only.",
            "",
            *history_table(elsewhere, current, None),
        ]
    return lines


def history_table(
    runs: list[dict], current: dict[str, object], same: list[bool] | None
) -> list[str]:
    """One column per run; with `same`, a last column of medians over the marked runs."""
    keys = [k for k in current if k != "run" and (k != "cpu" or same is None)]
    head = " | ".join(str(r.get("run", ""))[11:26] for r in runs)
    lines = [
        f"| figure | {head} |" + (" median, this code |" if same is not None else ""),
        "|---|" + "---|" * (len(runs) + (0 if same is None else 1)),
    ]
    for key in keys:
        values = [r.get(key) for r in runs]
        cells = " | ".join(
            "" if v is None else f"{v:g}" if isinstance(v, float) else str(v) for v in values
        )
        row = f"| {key} | {cells} |"
        if same is not None:
            mine = [v for v, ok in zip(values, same, strict=True) if ok]
            numbers = [v for v in mine if isinstance(v, int | float)]
            row += f" {statistics.median(numbers):g} |" if numbers else " |"
        lines.append(row)
    return [*lines, ""]


def profile_section(judged: list[Judged]) -> list[str]:
    """Top frames of the py-spy samples of the workers (idle time excluded)."""
    lines = ["## Profile", ""]
    for j in judged:
        profile = j.raw.get("profile")
        if not profile or not profile["samples"]:
            continue
        total = profile["samples"]
        lines += [
            f"py-spy, {profile['files']} worker(s), scenario `{j.scenario.name}` ({total} "
            "samples of busy time). The self time of `Connection._do_execute` is asyncpg's "
            "Cython protocol and, under it, mostly the `write()` system calls of each round "
            "trip (see the tuning notes).",
            "",
            "| frame (inclusive) | share |",
            "|---|---|",
            *[f"| `{f[:110]}` | {n / total:.0%} |" for f, n in profile["inclusive"][:18]],
            "",
            "| frame (self) | share |",
            "|---|---|",
            *[f"| `{f[:110]}` | {n / total:.0%} |" for f, n in profile["self"][:10]],
            "",
        ]
    if len(lines) == 2:
        lines += ["No profile in this run (py-spy missing, or no profiling scenario).", ""]
    return lines
