"""The scale-out topology on this machine, for a scenario's `start`:
nginx -> N `shop serve` replicas -> PgBouncer (transaction pooling) -> PostgreSQL.

    python -m ammo.topology replicas N

The driver runs it with the service's environment (DATABASE_URL straight to the benchmark's
database, JWT_SECRET, POOL_MAX_SIZE, ...) plus AMMO_TARGET_PORT, where nginx listens once
every replica does. It runs until SIGTERM, then stops what it started (nginx first, the
replicas together, PgBouncer last) and exits; if any part dies early, it stops the rest.

Each configuration has one source: nginx's is deploy/nginx/shop.conf.template through
deploy/nginx/render.sh, rendered by the same function the balancer test uses; PgBouncer's is
deploy/pgbouncer/pgbouncer.ini with only what differs on this machine replaced (addresses, the
database's name, local trust authentication, file paths). The replicas get the settings of
docker-compose.scale.yml, with 127.0.0.1 as the trusted proxy.
"""

from __future__ import annotations

import argparse
import configparser
import contextlib
import io
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

from yarl import URL

from ammo.processes import stop, wait_port
from tests.deploy.balancer import MAIN_CONF, find_nginx, render
from tests.helpers import free_port
from tests.pooler.bouncer import pgbouncer_binary

ROOT = Path(__file__).resolve().parents[1]
PGBOUNCER_INI = ROOT / "deploy" / "pgbouncer" / "pgbouncer.ini"

REPLICA_SETTINGS = {
    "WORKERS": "1",
    "DATABASE_POOLER": "transaction",
    "SHUTDOWN_LINGER_SECONDS": "2",
    "TRUSTED_PROXIES": "127.0.0.1/32",
}
"""What docker-compose.scale.yml sets on each replica (the proxy is local here)."""


def pgbouncer_ini(source: str, upstream: str, port: int, directory: Path) -> str:
    """deploy/pgbouncer/pgbouncer.ini for a local PgBouncer in front of `upstream`'s database.

    The one database line keeps its options (connect_query: the server connections' limits)
    with host, port and dbname replaced, under the database's own name, so the replicas'
    DATABASE_URL differs from the direct one in host and port only.
    """
    server = URL(upstream)
    dbname = server.path.lstrip("/")
    ini = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    ini.optionxform = str  # type: ignore[assignment,method-assign]
    ini.read_string(source)
    ((name, line),) = ini["databases"].items()
    line = re.sub(r"\bhost=\S+", f"host={server.host or '127.0.0.1'}", line)
    line = re.sub(r"\bport=\d+", f"port={server.port or 5432}", line)
    line = re.sub(r"\bdbname=\S+", f"dbname={dbname}", line)
    ini.remove_option("databases", name)
    ini["databases"][dbname] = line
    ini["pgbouncer"].update(
        listen_addr="127.0.0.1",
        listen_port=str(port),
        auth_type="trust",  # the benchmark's PostgreSQL trusts local connections
        auth_file=str(directory / "users.txt"),
        logfile=str(directory / "pgbouncer.log"),
        pidfile=str(directory / "pgbouncer.pid"),
    )
    out = io.StringIO()
    ini.write(out)
    return out.getvalue()


@contextlib.contextmanager
def _process(argv: list[str], env: Mapping[str, str] | None = None) -> Iterator[subprocess.Popen]:
    proc = subprocess.Popen(  # noqa: S603 - our own commands
        argv, env=None if env is None else dict(env), stdout=sys.stdout, stderr=sys.stderr
    )
    try:
        yield proc
    finally:
        stop(proc)


@contextlib.contextmanager
def pgbouncer(upstream: str, directory: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    """(the database's URL through PgBouncer, its process)."""
    binary = pgbouncer_binary()
    if binary is None:
        raise SystemExit("pgbouncer is not installed (apt-get install pgbouncer)")
    port = free_port()
    user = URL(upstream).user or "postgres"
    (directory / "users.txt").write_text(f'"{user}" ""\n')
    (directory / "pgbouncer.ini").write_text(
        pgbouncer_ini(PGBOUNCER_INI.read_text(), upstream, port, directory)
    )
    argv = [binary, str(directory / "pgbouncer.ini")]
    if os.geteuid() == 0:  # PgBouncer refuses to run as root
        for path in (directory, *directory.iterdir()):
            shutil.chown(path, "postgres")
        argv[1:1] = ["-u", "postgres"]
    with _process(argv) as proc:
        wait_port(port, proc, 30)
        yield str(URL(upstream).with_host("127.0.0.1").with_port(port)), proc


@contextlib.contextmanager
def nginx(upstreams: list[str], port: int, directory: Path) -> Iterator[subprocess.Popen]:
    binary = find_nginx()
    if binary is None:
        raise SystemExit("nginx is not installed (apt-get install nginx)")
    (directory / "shop.conf").write_text(
        render(upstreams, port, free_port(), directory / "access.log")
    )
    (directory / "nginx.conf").write_text(MAIN_CONF.format(dir=directory))
    argv = [binary, "-p", str(directory), "-c", str(directory / "nginx.conf")]
    argv += ["-e", str(directory / "error.log")]
    subprocess.run([*argv, "-t", "-q"], check=True)  # noqa: S603
    with _process([*argv, "-g", "daemon off;"]) as proc:
        wait_port(port, proc, 30)
        yield proc


@contextlib.contextmanager
def replicas(
    count: int, database_url: str, env: Mapping[str, str]
) -> Iterator[list[tuple[str, subprocess.Popen]]]:
    """(address, process) of `count` replicas of `shop serve` on free ports; at the end all
    get SIGTERM at once, so their shutdown grace runs in parallel."""
    procs: list[subprocess.Popen] = []
    addresses = []
    try:
        for _ in range(count):
            port = free_port()
            settings = {**env, **REPLICA_SETTINGS, "DATABASE_URL": database_url}
            proc = subprocess.Popen(
                [sys.executable, "-m", "shop", "serve"],
                env=settings | {"PORT": str(port)},
                stdout=sys.stdout,
                stderr=sys.stderr,
            )
            procs.append(proc)
            addresses.append((port, proc))
        for port, proc in addresses:
            wait_port(port, proc)
        yield [(f"127.0.0.1:{port}", proc) for port, proc in addresses]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            stop(proc)


def run_replicas(count: int, env: Mapping[str, str]) -> int:
    """Bring the topology up, keep it until SIGTERM (0) or until a part exits (1)."""
    port = int(env["AMMO_TARGET_PORT"])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with contextlib.ExitStack() as stack:
        directory = Path(tempfile.mkdtemp(prefix="ammo-topology-"))
        stack.callback(shutil.rmtree, directory, ignore_errors=True)
        directory.chmod(0o755)  # nginx's workers (nobody) and PgBouncer (postgres) read it
        (directory / "pgbouncer").mkdir()
        (directory / "nginx").mkdir()
        pooled, bouncer = stack.enter_context(
            pgbouncer(env["DATABASE_URL"], directory / "pgbouncer")
        )
        started = stack.enter_context(replicas(count, pooled, env))
        upstreams = [address for address, _ in started]
        balancer = stack.enter_context(nginx(upstreams, port, directory / "nginx"))
        print(f"topology: nginx :{port} -> {' '.join(upstreams)} -> {pooled}", flush=True)
        parts = [bouncer, balancer, *(proc for _, proc in started)]
        while all(proc.poll() is None for proc in parts):
            time.sleep(0.5)
        print("topology: a part exited; stopping the rest", file=sys.stderr, flush=True)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ammo.topology", description=__doc__)
    parser.add_argument("shape", choices=["replicas"])
    parser.add_argument("count", type=int, nargs="?", default=3)
    args = parser.parse_args(argv)
    return run_replicas(args.count, os.environ)


if __name__ == "__main__":
    sys.exit(main())
