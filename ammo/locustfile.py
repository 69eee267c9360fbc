"""Employee-like load on the coin API; `python -m ammo run` starts one locust per scenario.

The user classes (which one a scenario runs is in ammo/scenarios.py):
MixedEmployee, HotColleagueEmployee, InfoReader + StormLogin (the login storm), CeilingUser.

Every employee logs in once in on_start, waits idle for the others and reuses its token.
Once all of them hold a token, the statistics are reset and the measured part begins: the
paced classes run at each step's rate (requests/s for the whole class, None for as fast as
it goes), then the run stops by itself. The steps and where the results go come from the
driver's plan (ammo/plan.py, the AMMO_PLAN variable). CPU used by the service, PostgreSQL,
locust, any extra components and the rest of the machine is recorded per step, with exact
per-step percentiles, in the plan's steps CSV. In a search, stepping stops after the first
step that misses the SLO.
"""

from __future__ import annotations

import gc
import os
import random
import time
import traceback
import uuid
from collections import defaultdict
from typing import ClassVar

import gevent
from locust import FastHttpUser, constant, events, task
from locust.env import Environment
from locust.runners import Runner

from ammo import accounts, cpu, steps
from ammo.plan import Plan
from shop.auth.tokens import TokenCodec

PLAN = Plan.from_env()
ORDINARY = accounts.ordinary(PLAN.employees)

# Each run logs in as load employees of its own (rich enough for any scenario), so one
# scenario never inherits the spent wallets of the one before.
_load = accounts.load(PLAN.employees)
_employees = random.sample(_load, min(2_000, len(_load)))
_broke = list(accounts.DONORS)


class Clock:
    """The measured window: the current step's rate and the samples taken in each step."""

    rate: float | None = None  # None: as fast as it goes
    step = -1
    users: ClassVar[dict[str, int]] = {}  # per user class, counted once per step
    samples: ClassVar[dict[tuple[int, str], list[float]]] = defaultdict(list)
    failures: ClassVar[dict[tuple[int, str], int]] = defaultdict(int)


class Employee(FastHttpUser):
    """A logged-in employee; subclasses say what it does and at what share of the rate."""

    abstract = True
    host = "http://127.0.0.1:8080"
    ready = 0

    def on_start(self) -> None:
        self.client.client.cookiejar = None  # the service sets no cookies; skip the jar's work
        self.user_id = self.pick_account()
        self.username = accounts.name(self.user_id)
        self.auth = {"Authorization": f"Bearer {self.login(self.username, '/api/auth [warm-up]')}"}
        self._next = 0.0
        Employee.ready += 1
        # Idle until every user holds a token (no load competes with the logins' bcrypt),
        # then start at a random point of the first interval rather than all at once.
        while Clock.step < 0:
            gevent.sleep(0.2)
        gevent.sleep(self.wait_time())

    def pick_account(self) -> int:
        return _employees.pop()

    def login(self, username: str, name: str) -> str:
        """Log in, waiting while the service says its bcrypt threads are busy (warm-up)."""
        body = {"username": username, "password": accounts.PASSWORD}
        for _ in range(accounts.BUSY_TRIES):
            with self.client.post("/api/auth", json=body, name=name, catch_response=True) as resp:
                if resp.status_code == 200:
                    return resp.json()["token"]
                resp.failure(why(resp))
                if not busy(resp):
                    raise RuntimeError(f"login of {username} failed: {why(resp)}")
            gevent.sleep(random.uniform(0.5, 1.5))
        raise RuntimeError(f"login of {username}: still busy after {accounts.BUSY_TRIES} tries")

    def class_rate(self) -> float | None:
        return PLAN.fixed_rates.get(type(self).__name__, Clock.rate)

    def wait_time(self) -> float:
        """Constant arrival rate: class rate / its users each; catch up at most one slot."""
        rate = self.class_rate()
        if rate is None:
            return 0.0
        users = Clock.users.get(type(self).__name__, 1)
        interval = max(users, 1) / rate
        now = time.monotonic()
        if self._next == 0.0:
            self._next = now + random.uniform(0, interval)
        else:
            self._next = max(self._next + interval, now - interval)
        return max(0.0, self._next - now)

    def read(self, path: str) -> None:
        """GET a read endpoint, named by its path; anything but 200 is a failure."""
        with self.client.get(path, headers=self.auth, name=path, catch_response=True) as resp:
            if resp.status_code != 200:
                resp.failure(why(resp))

    def info(self) -> None:
        self.read("/api/info")

    def send(self, to_user: str, amount: int) -> None:
        body = {"toUser": to_user, "amount": amount}
        with self.client.post(
            "/api/sendCoin", json=body, headers=self.auth, name="/api/sendCoin", catch_response=True
        ) as resp:
            expected_400(resp)

    def buy(self, item: str) -> None:
        with self.client.get(
            f"/api/buy/{item}", headers=self.auth, name="/api/buy/[item]", catch_response=True
        ) as resp:
            expected_400(resp)


def busy(resp) -> bool:
    """The service's answer when no bcrypt thread was free in time: try again later."""
    return resp.status_code == 500 and bool(resp.headers.get("Retry-After"))


def why(resp) -> str:
    """A failed response in one line: status and body, or the connection error (status 0)."""
    return f"{resp.status_code} {(resp.text or repr(resp.error))[:120]}"


def expected_400(resp) -> None:
    """200, or the 400 of an employee who cannot pay: both are the service working."""
    if resp.status_code == 200 or (
        resp.status_code == 400 and accounts.SHORT_OF_COINS in (resp.text or "")
    ):
        resp.success()
    else:
        resp.failure(why(resp))


class MixedEmployee(Employee):
    """80% /api/info, 10% buying something cheap, 10% sending 1-5 coins to a random colleague.

    One in twenty is a broke employee (a donor with 0 coins), whose 400s are expected.
    """

    def pick_account(self) -> int:
        return _broke.pop() if random.random() < 0.05 and _broke else _employees.pop()

    @task(8)
    def read_info(self) -> None:
        self.info()

    @task(1)
    def buy_cheap(self) -> None:
        self.buy(random.choice(accounts.CHEAP_ITEMS))

    @task(1)
    def send_to_colleague(self) -> None:
        colleague = random.choice(ORDINARY)
        while colleague == self.user_id:
            colleague = random.choice(ORDINARY)
        self.send(accounts.name(colleague), random.randint(1, 5))


class HotColleagueEmployee(Employee):
    """Half the requests send one coin to the same employee; the rest read /api/info."""

    @task(1)
    def read_info(self) -> None:
        self.info()

    @task(1)
    def thank_hot_colleague(self) -> None:
        self.send(accounts.name(accounts.HOT), 1)


class InfoReader(Employee):
    """Keeps reading /api/info at its own fixed rate (the whole class) during a login storm."""

    fixed_count = PLAN.fixed_users.get("InfoReader", 0)

    @task
    def read_info(self) -> None:
        self.info()


class StormLogin(FastHttpUser):
    """Logs in back to back: half new employees (first login hashes), half re-logins (verify)."""

    host = Employee.host
    wait_time = constant(0)
    fixed_count = PLAN.fixed_users.get("StormLogin", 0)
    _run = uuid.uuid4().hex[:8]
    _new = 0

    @task
    def login(self) -> None:
        if Clock.step < 0:
            gevent.sleep(0.2)  # the storm starts with the measured window
            return
        if random.random() < 0.5:
            StormLogin._new += 1
            username, name = f"storm-{self._run}-{StormLogin._new}", "/api/auth [first login]"
        else:
            username, name = accounts.name(random.choice(ORDINARY)), "/api/auth [again]"
        body = {"username": username, "password": accounts.PASSWORD}
        with self.client.post("/api/auth", json=body, name=name, catch_response=True) as resp:
            if resp.status_code != 200:
                resp.failure(why(resp))


class CeilingUser(Employee):
    """GET /api/ceiling of ammo/ceiling.py: verify the JWT, one SELECT through the pool.

    The ceiling app has no login; the token is made here with the same JWT_SECRET.
    """

    def login(self, username: str, name: str) -> str:
        codec = TokenCodec(os.environ["JWT_SECRET"], 3600)  # the ceiling app's secret
        return codec.issue(self.user_id, username)

    @task
    def ceiling(self) -> None:
        self.read("/api/ceiling")


@events.request.add_listener
def _sample(name: str, response_time: float, exception: Exception | None, **_: object) -> None:
    if Clock.step >= 0:
        Clock.samples[Clock.step, name].append(response_time)
        if exception is not None:
            Clock.failures[Clock.step, name] += 1


def _drive(environment: Environment) -> None:
    """Wait for every employee's token, then run the rate steps and stop the test."""
    runner: Runner = environment.runner
    while True:
        gevent.sleep(0.2)
        counts = runner.user_classes_count
        wanted = sum(n for cls, n in counts.items() if cls not in ("StormLogin",))
        if runner.state == "running" and Employee.ready >= wanted:
            break
    gevent.sleep(1.0)
    runner.stats.reset_all()
    # What warm-up built lives to the end: freeze it, so that a full collection does not
    # walk it again and stall every request in flight (one took 35-45 ms before).
    gc.collect()
    gc.freeze()
    print(f"warm-up done: {Employee.ready} employees hold a token; measuring", flush=True)
    service, launched = set(PLAN.service_pids), set(PLAN.started_pids)
    rows: list[dict[str, object]] = []
    for step, (rate, duration) in enumerate(PLAN.steps):
        Clock.rate = rate
        Clock.users = dict(runner.user_classes_count)  # a walk over every user: not per task
        Clock.step = step
        before = cpu.snapshot(PLAN.dbname, service, PLAN.components, launched)
        started = time.monotonic()
        gevent.sleep(duration)
        seconds = time.monotonic() - started
        after = cpu.snapshot(PLAN.dbname, service, PLAN.components, launched)
        used = cpu.usage(before, after)
        samples = {name: times for (s, name), times in Clock.samples.items() if s == step}
        failures = {name: n for (s, name), n in Clock.failures.items() if s == step}
        step_rows = [row | used for row in steps.rows(step, rate, seconds, samples, failures)]
        rows += step_rows
        print(steps.describe(step, step_rows[-1]), flush=True)
        if steps.missed(step_rows, rate, PLAN.stop):
            break
    Clock.step = -2
    steps.write(PLAN.steps_csv, rows)
    runner.quit()


def _drive_or_quit(environment: Environment) -> None:
    """Run the steps; on any error, say so and stop at once rather than at --run-time."""
    try:
        _drive(environment)
    except Exception:
        traceback.print_exc()
        print("the measurement failed; stopping", flush=True)
        environment.runner.quit()


@events.test_start.add_listener
def _on_test_start(environment: Environment, **_: object) -> None:
    gevent.spawn(_drive_or_quit, environment)
