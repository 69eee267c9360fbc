"""A light open-loop load generator for the paced scenarios (`generator="pacer"` rows).

    python -m ammo.pacer --host URL --users N [--csv PREFIX] CLASS   (AMMO_PLAN as for locust)

The generator shares the cores with what it measures, so its own cost per request limits
the rates the service can be shown to hold. Locust (FastHttpUser) pays for a greenlet per
user woken by a timer for every request, its statistics and its event hooks; this sends the
same requests from one asyncio loop over aiohttp's keep-alive client, with nothing per
request but the request. The figures behind the choice are in ammo/README.md.

It is open loop: request k of a step is due at k / rate seconds, whatever the answers do,
so a slow service meets the full rate and queues (no coordinated omission in the schedule).
A request's latency counts from when it is handed to the client (waiting for a free
connection included), as locust counts it; how late the generator's own loop was in handing
it over, behind its schedule, is a figure of its own (`lag_p99_ms`): on cores shared with
what it measures, that lag is the machine's, not the service's.

The employees take turns (request k goes to employee k mod N), each with its own
token from one login during warm-up, and a class's mix (MixedEmployee: 8 info, 1 buy, 1 send;
HotColleagueEmployee: 1 info, 1 send to the hot colleague) is drawn per request, as the
locust classes of the same names do.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import gc
import json
import random
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp
import uvloop

from ammo import accounts, cpu, steps
from ammo.plan import Plan

INFO, BUY, SEND = "/api/info", "/api/buy/[item]", "/api/sendCoin"
BROKE_SHARE = 0.05
"""Share of MixedEmployee users that are broke donors, whose refused buys and sends are fine."""
LOGIN_CONCURRENCY = 8


@dataclass(frozen=True)
class Employee:
    user_id: int
    name: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def json_headers(self) -> dict[str, str]:
        return {**self.headers, "Content-Type": "application/json"}


Request = tuple[str, str, str, bytes | None]
"""(name, method, path, JSON body)."""


def send_body(to_user: str, amount: int) -> bytes:
    return json.dumps({"toUser": to_user, "amount": amount}).encode()


def mixed(employee: Employee, ordinary: range) -> Request:
    draw = random.random()
    if draw < 0.8:
        return INFO, "GET", INFO, None
    if draw < 0.9:
        return BUY, "GET", f"/api/buy/{random.choice(accounts.CHEAP_ITEMS)}", None
    colleague = random.choice(ordinary)
    while colleague == employee.user_id:
        colleague = random.choice(ordinary)
    return SEND, "POST", SEND, send_body(accounts.name(colleague), random.randint(1, 5))


def hot(employee: Employee, _ordinary: range) -> Request:
    if random.random() < 0.5:
        return INFO, "GET", INFO, None
    return SEND, "POST", SEND, send_body(accounts.name(accounts.HOT), 1)


MIXES: dict[str, Callable[[Employee, range], Request]] = {
    "MixedEmployee": mixed,
    "HotColleagueEmployee": hot,
}


def pick_accounts(user_class: str, users: int, employees: int) -> list[int]:
    """As the locust classes pick them: load employees, and a few broke ones in the mix."""
    load = accounts.load(employees)
    picked = random.sample(load, min(users, len(load)))
    if user_class == "MixedEmployee":
        broke = iter(accounts.DONORS)
        picked = [next(broke, uid) if random.random() < BROKE_SHARE else uid for uid in picked]
    return picked


async def login(http: aiohttp.ClientSession, user_id: int) -> Employee:
    """Log in, waiting while the service says its bcrypt threads are busy."""
    name = accounts.name(user_id)
    body = {"username": name, "password": accounts.PASSWORD}
    for _ in range(accounts.BUSY_TRIES):
        async with http.post("/api/auth", json=body) as response:
            text = await response.text()
            if response.status == 200:
                token = json.loads(text)["token"]
                return Employee(user_id, name, token)
            if not (response.status == 500 and response.headers.get("Retry-After")):
                raise RuntimeError(f"login of {name} failed: {response.status} {text[:120]}")
        await asyncio.sleep(random.uniform(0.5, 1.5))
    raise RuntimeError(f"login of {name}: still busy after {accounts.BUSY_TRIES} tries")


class Recorder:
    """Every answer of the measured window: per step and name, and per second for charts."""

    def __init__(self) -> None:
        self.samples: dict[int, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        self.failures: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.errors: dict[str, int] = defaultdict(int)
        self.lags: dict[int, list[float]] = defaultdict(list)
        self.timeline: list[tuple[float, float, bool]] = []

    def record(self, step: int, name: str, due: float, sent: float, failed: str | None) -> None:
        latency_ms = (time.monotonic() - sent) * 1000
        self.samples[step][name].append(latency_ms)
        self.lags[step].append((sent - due) * 1000)
        if failed is not None:
            self.failures[step][name] += 1
            self.errors[failed[:160]] += 1
        self.timeline.append((time.time(), latency_ms, failed is not None))

    def write_history(self, path: str) -> None:
        """Per second, as locust's `_stats_history.csv` (the columns the charts read)."""
        by_second: dict[int, list[tuple[float, bool]]] = defaultdict(list)
        for at, latency, failed in self.timeline:
            by_second[int(at)].append((latency, failed))
        with open(path, "w", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["Timestamp", "Name", "Requests/s", "Failures/s", "50%", "99%"])
            for second in sorted(by_second):
                times = sorted(latency for latency, _ in by_second[second])
                failed = sum(1 for _, bad in by_second[second] if bad)
                writer.writerow(
                    [
                        second,
                        steps.AGGREGATED,
                        len(times),
                        failed,
                        round(steps.percentile(times, 0.5), 2),
                        round(steps.percentile(times, 0.99), 2),
                    ]
                )


async def fire(
    http: aiohttp.ClientSession,
    recorder: Recorder,
    step: int,
    headers: dict[str, str],
    request: Request,
    due: float,
) -> None:
    name, method, path, body = request
    failed: str | None = None
    sent = time.monotonic()
    try:
        async with http.request(method, path, data=body, headers=headers) as response:
            text = await response.read()
            if response.status != 200 and not (
                name != INFO and response.status == 400 and accounts.SHORT_OF_COINS.encode() in text
            ):
                failed = f"{name}: {response.status} {text[:120]!r}"
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        failed = f"{name}: {exc!r}"
    recorder.record(step, name, due, sent, failed)


async def run(args: argparse.Namespace, plan: Plan) -> int:
    mix = MIXES[args.user_class]
    ordinary = accounts.ordinary(plan.employees)
    connector = aiohttp.TCPConnector(limit=args.users, keepalive_timeout=60)
    async with aiohttp.ClientSession(args.host, connector=connector) as http:
        gate = asyncio.Semaphore(LOGIN_CONCURRENCY)

        async def one_login(user_id: int) -> Employee:
            async with gate:
                return await login(http, user_id)

        picked = pick_accounts(args.user_class, args.users, plan.employees)
        employees = await asyncio.gather(*(one_login(uid) for uid in picked))
        plain = [employee.headers for employee in employees]
        with_json = [employee.json_headers for employee in employees]
        # No collection while measuring: a full one walks every sample kept so far and stalls
        # the loop, and every answer in flight then reads as that much slower. What the
        # measurement allocates lives to the end anyway.
        gc.collect()
        gc.freeze()
        gc.disable()
        print(f"warm-up done: {len(employees)} employees hold a token; measuring", flush=True)

        recorder = Recorder()
        service, launched = set(plan.service_pids), set(plan.started_pids)
        loop = asyncio.get_running_loop()
        pending: set[asyncio.Task[None]] = set()
        rows: list[dict[str, object]] = []
        turn = 0
        for step, (rate, duration) in enumerate(plan.steps):
            if rate is None:
                raise SystemExit("the pacer only runs paced steps (a rate for every step)")
            before = cpu.snapshot(plan.dbname, service, plan.components, launched)
            started, sent = time.monotonic(), 0
            end = started + duration
            while (due := started + sent / rate) < end:
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                who = turn % len(employees)
                turn += 1
                request = mix(employees[who], ordinary)
                headers = plain[who] if request[3] is None else with_json[who]
                task = loop.create_task(fire(http, recorder, step, headers, request, due))
                pending.add(task)
                task.add_done_callback(pending.discard)
                sent += 1
            # The step's answers: those of its own requests, however late they come.
            if pending:
                await asyncio.wait(pending, timeout=args.drain_seconds)
            # The step lasts its duration, or until its last answer when that comes later.
            seconds = max(duration, time.monotonic() - started)
            after = cpu.snapshot(plan.dbname, service, plan.components, launched)
            used = cpu.usage(before, after)
            lag = round(steps.percentile(sorted(recorder.lags[step]), 0.99), 2)
            step_rows = [
                row | used | {"lag_p99_ms": lag}
                for row in steps.rows(
                    step, rate, seconds, recorder.samples[step], recorder.failures[step]
                )
            ]
            rows += step_rows
            print(f"{steps.describe(step, step_rows[-1])} generator lag p99 {lag} ms", flush=True)
            if steps.missed(step_rows, rate, plan.stop):
                break
        for task in pending:
            task.cancel()
    steps.write(plan.steps_csv, rows)
    if args.csv:
        recorder.write_history(f"{args.csv}_stats_history.csv")
    for error, count in sorted(recorder.errors.items(), key=lambda item: -item[1])[:10]:
        print(f"failure x{count}: {error}", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ammo.pacer", description=__doc__)
    parser.add_argument("--host", required=True, help="base URL of the target")
    parser.add_argument("--users", type=int, required=True, help="employees (and connections)")
    parser.add_argument("--csv", default="", help="prefix of the per-second history CSV")
    parser.add_argument(
        "--drain-seconds",
        type=float,
        default=30.0,
        help="how long a step waits for its last answers",
    )
    parser.add_argument("user_class", choices=sorted(MIXES))
    args = parser.parse_args(argv)
    return uvloop.run(run(args, Plan.from_env()))


if __name__ == "__main__":
    sys.exit(main())
