"""CPU per mixed request of two versions of the service, side by side in one run.

    .venv/bin/python ammo/cpu_ab.py [--before 21dfd56] [--rate 300] [--duration 30] [--runs 3]

Both versions run from the same venv (the older one through PYTHONPATH on a detached git
worktree), each as `shop serve` with WORKERS=2 on its own port, against one freshly migrated
and seeded database. One open-loop generator sends the same paced mixed load to both at the
same instants: info 5 : buy 2 : sendCoin 2, each request to a random employee. CPU per request
is the utime+stime that each service's process tree (supervisor and workers, from /proc) used
during a window, divided by the requests it answered in that window: on a machine shared with
other work this moves far less than latency does. `--profile` instead samples every worker of
both versions with py-spy for one window and prints the top frames of each.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
import jwt

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
TICK = os.sysconf("SC_CLK_TCK")
SECRET = "cpu-ab-secret-" + "x" * 32
MIX = (("info", 5), ("buy", 2), ("send", 2))
ITEMS = ("pen", "socks", "cup")
PY_SPY = shutil.which("py-spy", path=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}")


def tree_cpu(root: int) -> dict[int, tuple[float, float]]:
    """pid -> (user, system) CPU seconds of `root` and every live descendant."""
    parents: dict[int, int] = {}
    cpu: dict[int, tuple[float, float]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                rest = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(rest[1])
        cpu[int(entry)] = (int(rest[11]) / TICK, int(rest[12]) / TICK)
    tree, grew = {root}, True
    while grew:
        more = {pid for pid, ppid in parents.items() if ppid in tree} - tree
        tree |= more
        grew = bool(more)
    return {pid: cpu[pid] for pid in tree if pid in cpu}


class Service:
    """One version of `shop serve`, started from `source` on `port`."""

    def __init__(self, name: str, source: Path, port: int, dsn: str, logs: Path) -> None:
        self.name, self.port = name, port
        self.url = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "PYTHONPATH": str(source),
            "DATABASE_URL": dsn,
            "JWT_SECRET": SECRET,
            "PORT": str(port),
            "HOST": "127.0.0.1",
            "WORKERS": "2",
            "POOL_MAX_SIZE": "16",
            "LOG_LEVEL": "INFO",
        }
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        self.log = open(logs / f"{name}.log", "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "shop", "serve"],
            cwd=source,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def workers(self) -> list[int]:
        return sorted(set(tree_cpu(self.process.pid)) - {self.process.pid})

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


async def wait_ready(service: Service) -> None:
    probe = Client(service.port, limit=1)
    try:
        for _ in range(300):
            try:
                if await probe.send(b"GET /readyz HTTP/1.1\r\nHost: shop\r\n\r\n") == 200:
                    return
            except OSError:
                pass
            await asyncio.sleep(0.1)
    finally:
        probe.close()
    raise RuntimeError(f"{service.name} did not become ready; see its log")


async def create_database(admin_url: str) -> tuple[str, str]:
    name = f"cpu_ab_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    return name, admin_url.rsplit("/", 1)[0] + "/" + name


async def seed(dsn: str, employees: int) -> list[tuple[int, str]]:
    """`employees` employees rich enough never to run dry; no history."""
    conn = await asyncpg.connect(dsn)
    rows = await conn.fetch(
        "INSERT INTO users (username, password_hash, balance)"
        " SELECT 'ab' || lpad(g::text, 5, '0'), 'not-a-hash', 10000000"
        " FROM generate_series(1, $1) AS g RETURNING id, username",
        employees,
    )
    await conn.execute("VACUUM ANALYZE users")
    await conn.close()
    return [(r["id"], r["username"]) for r in rows]


async def drop_database(admin_url: str, name: str) -> None:
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


def sign_in(employees: list[tuple[int, str]]) -> dict[int, str]:
    """Each employee's Authorization header line, minted once like a client's login token."""
    now = int(time.time())
    heads = {}
    for user_id, name in employees:
        claims = {"sub": str(user_id), "name": name, "iat": now, "exp": now + 24 * 3600}
        token = jwt.encode(claims, SECRET, algorithm="HS256")
        heads[user_id] = f"Host: shop\r\nAuthorization: Bearer {token}\r\n"
    return heads


def plan(employees: list[tuple], heads: dict[int, str], count: int, seed: int) -> list[bytes]:
    """The raw HTTP requests of one window, the same for both services."""
    rng = random.Random(seed)
    kinds = [kind for kind, weight in MIX for _ in range(weight)]
    requests = []
    for _ in range(count):
        (user_id, _), (_, other) = rng.sample(employees, 2)
        kind = rng.choice(kinds)
        if kind == "info":
            text = f"GET /api/info HTTP/1.1\r\n{heads[user_id]}\r\n"
        elif kind == "buy":
            text = f"GET /api/buy/{rng.choice(ITEMS)} HTTP/1.1\r\n{heads[user_id]}\r\n"
        else:
            body = json.dumps({"toUser": other, "amount": 1})
            text = (
                f"POST /api/sendCoin HTTP/1.1\r\n{heads[user_id]}Content-Type: application/json"
                f"\r\nContent-Length: {len(body)}\r\n\r\n{body}"
            )
        requests.append(text.encode())
    return requests


class Client:
    """A minimal keep-alive HTTP/1.1 client: far cheaper than a full one, so the generator
    takes less of the CPU the services are measured on."""

    def __init__(self, port: int, limit: int = 64) -> None:
        self._port = port
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self._slots = asyncio.Semaphore(limit)

    async def _connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """A kept connection the service has not closed meanwhile, else a new one.

        The service closes a connection left idle for its keep-alive timeout; one kept that
        long (opened in a burst, then unused) must not be written to, as any client knows.
        """
        while self._idle:
            reader, writer = self._idle.pop()
            if not reader.at_eof() and not writer.is_closing():
                return reader, writer
            writer.close()
        return await asyncio.open_connection("127.0.0.1", self._port)

    async def send(self, raw: bytes) -> int:
        async with self._slots:
            reader, writer = await self._connection()
            writer.write(raw)
            head = await reader.readuntil(b"\r\n\r\n")
            at = head.lower().find(b"\r\ncontent-length:")
            length = int(head[at + 17 : head.index(b"\r\n", at + 2)]) if at >= 0 else 0
            await reader.readexactly(length)
            self._idle.append((reader, writer))
            return int(head[9:12])

    def close(self) -> None:
        for _, writer in self._idle:
            writer.close()


async def drive(
    clients: dict[str, Client], services: list[Service], requests: list[bytes], rate: float
) -> dict[str, collections.Counter]:
    """Send every request to every service at `rate` per second each; count the statuses."""
    statuses = {s.name: collections.Counter() for s in services}
    pending: set[asyncio.Task] = set()

    async def one(name: str, raw: bytes) -> None:
        try:
            statuses[name][await clients[name].send(raw)] += 1
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            statuses[name][type(exc).__name__] += 1

    loop = asyncio.get_running_loop()
    started = loop.time()
    names = [s.name for s in services]
    for n, raw in enumerate(requests):
        delay = started + n / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        for name in names if n % 2 == 0 else names[::-1]:  # neither always goes first
            task = asyncio.create_task(one(name, raw))
            pending.add(task)
            task.add_done_callback(pending.discard)
    if pending:
        await asyncio.wait(pending)
    return statuses


async def window(clients, services, employees, args, seed: int) -> dict[str, dict]:
    requests = plan(employees, args.heads, int(args.rate * args.duration), seed)

    def used() -> dict[str, tuple[float, float]]:
        return {
            s.name: tuple(map(sum, zip(*tree_cpu(s.process.pid).values(), strict=True)))
            for s in services
        }

    before = used()
    wall = time.perf_counter()
    statuses = await drive(clients, services, requests, args.rate)
    wall = time.perf_counter() - wall
    after = used()
    result = {}
    for s in services:
        answered = sum(n for status, n in statuses[s.name].items() if isinstance(status, int))
        user = after[s.name][0] - before[s.name][0]
        system = after[s.name][1] - before[s.name][1]
        per = 1000 / max(answered, 1)
        result[s.name] = {
            "requests": answered,
            "statuses": {str(k): v for k, v in sorted(statuses[s.name].items(), key=str)},
            "cpu_s": round(user + system, 3),
            "cpu_ms_per_request": round((user + system) * per, 4),
            "user_ms_per_request": round(user * per, 4),
            "system_ms_per_request": round(system * per, 4),
            "cpu_cores": round((user + system) / wall, 3),
        }
    result["wall_s"] = round(wall, 2)
    return result


def top_frames(raw_files: list[Path], limit: int = 20) -> dict[str, list]:
    """Self and inclusive shares of py-spy's collapsed stacks over all given files."""
    own: collections.Counter = collections.Counter()
    inclusive: collections.Counter = collections.Counter()
    total = 0
    for path in raw_files:
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            frames = stack.split(";")
            n = int(count)
            total += n
            own[frames[-1]] += n
            for frame in set(frames):
                inclusive[frame] += n

    def share(counter: collections.Counter) -> list:
        return [[frame, round(100 * n / total, 1)] for frame, n in counter.most_common(limit)]

    return {"samples": total, "self": share(own), "inclusive": share(inclusive)}


async def profile(clients, services, employees, args, logs: Path) -> dict:
    recorders = []
    for s in services:
        for pid in s.workers():
            out = logs / f"{s.name}-{pid}.txt"
            command = [PY_SPY, "record", "-r", "100", "-f", "raw"]
            command += ["-d", str(int(args.duration)), "-p", str(pid), "-o", str(out)]
            # Native frames need the process stopped while sampled; Python ones do not.
            command += ["--native"] if args.native else ["--nonblocking"]
            err = out.with_suffix(".err").open("wb")
            proc = await asyncio.create_subprocess_exec(
                *command, stdout=subprocess.DEVNULL, stderr=err
            )
            err.close()
            recorders.append((s.name, out, proc))
    await asyncio.sleep(1)
    await window(clients, services, employees, args, seed=999)
    for _, _, proc in recorders:
        await proc.wait()
    return {
        s.name: top_frames([out for name, out, _ in recorders if name == s.name and out.exists()])
        for s in services
    }


def git(*args: str) -> str:
    command = ["git", *args]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()  # noqa: S603


async def measure(args: argparse.Namespace, services: list[Service], employees: list) -> dict:
    """Warm both up, then the measured windows (or the profile)."""
    report: dict = {}
    clients = {s.name: Client(s.port) for s in services}
    for s in services:
        await wait_ready(s)
    warm = argparse.Namespace(rate=args.rate, duration=5, heads=args.heads)
    await window(clients, services, employees, warm, seed=0)
    if args.profile:
        report["profile"] = await profile(clients, services, employees, args, args.logs)
        print(json.dumps(report["profile"], indent=1))
    else:
        runs = []
        for run in range(1, args.runs + 1):
            result = await window(clients, services, employees, args, seed=run)
            result["ratio_after_over_before"] = round(
                result["after"]["cpu_ms_per_request"] / result["before"]["cpu_ms_per_request"], 3
            )
            result["loadavg"] = os.getloadavg()
            runs.append(result)
            print(json.dumps(result))
        report["runs"] = runs
        report["median"] = {
            name: statistics.median(r[name]["cpu_ms_per_request"] for r in runs)
            for name in ("before", "after")
        }
        report["median_ratio"] = statistics.median(r["ratio_after_over_before"] for r in runs)
        print(json.dumps({k: report[k] for k in ("median", "median_ratio")}))
    for client in clients.values():
        client.close()
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="21dfd56", help="git revision of the 'before' code")
    parser.add_argument("--before-dir", type=Path, default=Path("/tmp/shop-before"))  # noqa: S108
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--rate", type=float, default=300, help="requests/s to each service")
    parser.add_argument("--duration", type=float, default=30, help="seconds per window")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--employees", type=int, default=400)
    parser.add_argument("--ports", default="18301,18302")
    parser.add_argument("--profile", action="store_true", help="one py-spy window instead")
    parser.add_argument("--native", action="store_true", help="profile native frames too")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "cpu_ab.json")
    args = parser.parse_args()

    if not (args.before_dir / "shop").is_dir():
        git("-C", str(REPO), "worktree", "add", "--detach", str(args.before_dir), args.before)
    else:  # left by an earlier run, perhaps at another revision: measure the one asked for
        git("-C", str(args.before_dir), "checkout", "--quiet", "--detach", args.before)
    report: dict = {
        "before": git("-C", str(args.before_dir), "rev-parse", "--short", "HEAD"),
        "after": git("-C", str(REPO), "rev-parse", "--short", "HEAD"),
        "after_dirty": bool(git("-C", str(REPO), "status", "--porcelain", "shop")),
        "rate_per_service": args.rate,
        "duration_s": args.duration,
        "employees": args.employees,
        "mix": dict(MIX),
        "nproc": os.cpu_count(),
        "loadavg_at_start": os.getloadavg(),
    }
    dbname, dsn = asyncio.run(create_database(args.admin_url))
    args.logs = Path(tempfile.mkdtemp(prefix="cpu-ab-"))
    services: list[Service] = []
    try:
        env = {**os.environ, "DATABASE_URL": dsn}
        subprocess.run([sys.executable, "-m", "shop", "migrate"], env=env, check=True)
        employees = asyncio.run(seed(dsn, args.employees))
        args.heads = sign_in(employees)
        ports = [int(p) for p in args.ports.split(",")]
        services.append(Service("before", args.before_dir, ports[0], dsn, args.logs))
        services.append(Service("after", REPO, ports[1], dsn, args.logs))
        report.update(asyncio.run(measure(args, services, employees)))
    finally:
        for s in services:
            s.stop()
        asyncio.run(drop_database(args.admin_url, dbname))
    out = args.out.with_name(args.out.stem + "_profile.json") if args.profile else args.out
    out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"written {out}; service logs in {args.logs}")
    return 0


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    sys.exit(main())
