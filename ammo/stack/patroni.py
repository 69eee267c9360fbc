"""A real high-availability cluster on this machine: 3 etcd members, 3 Patroni-managed
PostgreSQL 15 nodes with synchronous replication, and HAProxy in front of them.

    python -m ammo.stack.patroni      # prints the primary's URL, runs until SIGTERM/Ctrl-C

The configurations come from deploy/patroni/ (patroni.yml, haproxy.cfg), with only this
machine's ports and paths filled in. Patroni and PostgreSQL refuse to run as root: as root,
they run as the `postgres` user with their data under a temporary directory it owns.
`stop()` ends every part, whatever state the cluster was left in.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "patroni"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
HOST = "127.0.0.1"
SCOPE = "shop"
PROGRAMS = ("patroni", "etcd", "haproxy")


def missing_programs() -> list[str]:
    """The programs the cluster needs that this machine lacks (empty when it can run)."""
    missing = [p for p in PROGRAMS if shutil.which(p) is None and not Path("/usr/sbin", p).exists()]
    if not (PG_BIN / "postgres").exists():
        missing.append(str(PG_BIN / "postgres"))
    return missing


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _program(name: str) -> str:
    return shutil.which(name) or str(Path("/usr/sbin", name))


@dataclass
class Node:
    name: str
    pg_port: int
    rest_port: int
    dir: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def data_dir(self) -> Path:
        return self.dir / "data"

    def state(self) -> dict[str, object]:
        """Patroni's own view of this node (GET /patroni); empty when it does not answer."""
        try:
            with urllib.request.urlopen(f"http://{HOST}:{self.rest_port}/patroni", timeout=2) as r:
                return json.loads(r.read())
        except (OSError, ValueError):
            return {}

    def postmaster_pid(self) -> int | None:
        with contextlib.suppress(OSError, ValueError, IndexError):
            return int((self.data_dir / "postmaster.pid").read_text().split()[0])
        return None


@dataclass
class Cluster:
    """The cluster's parts; start() brings them up, stop() ends them all."""

    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="shop-ha-")))
    etcd: list[subprocess.Popen[bytes]] = field(default_factory=list)
    etcd_client_ports: list[int] = field(default_factory=list)
    nodes: list[Node] = field(default_factory=list)
    haproxy: subprocess.Popen[bytes] | None = None
    primary_port: int = 0
    replica_port: int = 0

    # -- start -------------------------------------------------------------------------
    def start(self, timeout: float = 120) -> Cluster:
        try:
            self._as_postgres_owned(self.root)
            self._start_etcd()
            for i in range(1, 4):
                node = Node(f"node{i}", free_port(), free_port(), self.root / f"node{i}")
                self.nodes.append(node)
                self.start_node(node)
            self.primary_port, self.replica_port = free_port(), free_port()
            self.start_haproxy()
            self.wait_primary(timeout)
            self.wait_replicas(2, timeout)
            self.wait_synchronous(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _as_postgres_owned(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(path, "postgres", "postgres")

    def _start_etcd(self) -> None:
        peers = [free_port() for _ in range(3)]
        self.etcd_client_ports = [free_port() for _ in range(3)]
        cluster = ",".join(f"e{i}=http://{HOST}:{p}" for i, p in enumerate(peers, 1))
        token = f"shop-ha-{os.getpid()}-{peers[0]}"
        for i, (peer, client) in enumerate(zip(peers, self.etcd_client_ports, strict=True), 1):
            argv = [
                _program("etcd"),
                f"--name=e{i}",
                f"--data-dir={self.root / f'etcd{i}'}",
                f"--listen-peer-urls=http://{HOST}:{peer}",
                f"--initial-advertise-peer-urls=http://{HOST}:{peer}",
                f"--listen-client-urls=http://{HOST}:{client}",
                f"--advertise-client-urls=http://{HOST}:{client}",
                f"--initial-cluster={cluster}",
                "--initial-cluster-state=new",
                f"--initial-cluster-token={token}",
            ]
            self.etcd.append(self._spawn(argv, self.root / f"etcd{i}.log"))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, ValueError):
                url = f"http://{HOST}:{self.etcd_client_ports[0]}/health"
                with urllib.request.urlopen(url, timeout=2) as r:
                    if json.loads(r.read()).get("health") == "true":
                        return
            time.sleep(0.2)
        raise TimeoutError(f"etcd did not become healthy: {self.logs('etcd1')}")

    def _spawn(
        self, argv: list[str], log: Path, as_postgres: bool = False
    ) -> subprocess.Popen[bytes]:
        kwargs: dict[str, object] = {}
        env = dict(os.environ)
        if as_postgres and os.geteuid() == 0:
            entry = pwd.getpwnam("postgres")
            kwargs = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
            env["HOME"] = entry.pw_dir
        with log.open("ab") as out:
            if as_postgres and os.geteuid() == 0:
                shutil.chown(log, "postgres", "postgres")
            return subprocess.Popen(  # noqa: S603 - our own commands
                argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.root,
                start_new_session=True,
                **kwargs,  # type: ignore[arg-type]
            )

    def node_config(self, node: Node) -> str:
        template = string.Template((DEPLOY / "patroni.yml").read_text())
        return template.substitute(
            scope=SCOPE,
            name=node.name,
            host=HOST,
            rest_port=node.rest_port,
            pg_port=node.pg_port,
            etcd_hosts=",".join(f"{HOST}:{p}" for p in self.etcd_client_ports),
            data_dir=node.data_dir,
            bin_dir=PG_BIN,
            pgpass=node.dir / "pgpass",
            socket_dir=node.dir,
            superuser_password="postgres",
            replication_password="replicator",
            rewind_password="rewinder",
            client_network=f"{HOST}/32",
            client_auth="trust",
        )

    def start_node(self, node: Node) -> None:
        """Start (or restart) the Patroni of `node`; it starts and manages its PostgreSQL."""
        self._as_postgres_owned(node.dir)
        config = node.dir / "patroni.yml"
        config.write_text(self.node_config(node))
        log = node.dir / "patroni.log"
        node.process = self._spawn([_program("patroni"), str(config)], log, as_postgres=True)

    def start_haproxy(self) -> None:
        def servers() -> str:
            return "\n".join(
                f"    server {n.name} {HOST}:{n.pg_port} check port {n.rest_port}"
                for n in self.nodes
            )

        config = string.Template((DEPLOY / "haproxy.cfg").read_text()).substitute(
            bind=HOST,
            primary_port=self.primary_port,
            replica_port=self.replica_port,
            primary_servers=servers(),
            replica_servers=servers(),
        )
        path = self.root / "haproxy.cfg"
        path.write_text(config)
        self.haproxy = self._spawn(
            [_program("haproxy"), "-db", "-f", str(path)], self.root / "haproxy.log"
        )

    # -- observe -----------------------------------------------------------------------
    def url(self, database: str = "postgres", replica: bool = False) -> str:
        """A libpq URL through HAProxy: the primary port, or the replicas' one."""
        port = self.replica_port if replica else self.primary_port
        return f"postgresql://postgres:postgres@{HOST}:{port}/{database}"

    def primary(self) -> Node | None:
        for node in self.nodes:
            state = node.state()
            if state.get("role") in ("master", "primary") and state.get("state") == "running":
                return node
        return None

    def wait_primary(self, timeout: float = 60, other_than: Node | None = None) -> Node:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            node = self.primary()
            if node is not None and node is not other_than:
                return node
            time.sleep(0.3)
        raise TimeoutError(f"no primary after {timeout:.0f} s:\n{self.logs()}")

    def wait_replicas(self, count: int, timeout: float = 60) -> None:
        """Until `count` nodes stream from the primary (one of them the synchronous one)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            running = [
                n
                for n in self.nodes
                if n.state().get("role") == "replica" and n.state().get("state") == "running"
            ]
            if len(running) >= count:
                return
            time.sleep(0.5)
        raise TimeoutError(f"fewer than {count} replicas after {timeout:.0f} s:\n{self.logs()}")

    def wait_synchronous(self, timeout: float = 60) -> str:
        """Until the primary's PostgreSQL streams to a standby with sync_state 'sync' (a commit
        is acknowledged only once that standby holds it); that standby's name."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            primary = self.primary()
            if primary is not None:
                replication = primary.state().get("replication") or []
                for standby in replication:  # type: ignore[union-attr]
                    if standby.get("sync_state") == "sync" and standby.get("state") == "streaming":
                        return str(standby["application_name"])
            time.sleep(0.3)
        raise TimeoutError(f"no synchronous standby after {timeout:.0f} s:\n{self.logs()}")

    def logs(self, only: str | None = None) -> str:
        files = sorted(self.root.glob("**/*.log"))
        return "\n".join(
            f"--- {f.relative_to(self.root)}\n{f.read_text(errors='replace')[-3000:]}"
            for f in files
            if only is None or only in str(f)
        )

    # -- faults ------------------------------------------------------------------------
    def kill_node(self, node: Node) -> None:
        """kill -9 of the node's Patroni AND its PostgreSQL: the machine is gone."""
        pid = node.postmaster_pid()
        if node.process is not None and node.process.poll() is None:
            node.process.kill()
            node.process.wait()
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            _wait_gone(pid)

    # -- stop --------------------------------------------------------------------------
    def stop(self) -> None:
        if self.haproxy is not None:
            _end(self.haproxy)
        for node in self.nodes:
            pid = node.postmaster_pid()
            if node.process is not None:
                _end(node.process, grace=20)
            if pid is not None:  # Patroni stops its PostgreSQL; one left over is killed
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                _wait_gone(pid)
        for process in self.etcd:
            _end(process)
        shutil.rmtree(self.root, ignore_errors=True)


def _end(process: subprocess.Popen[bytes], grace: float = 10) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_gone(pid: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)


@contextlib.contextmanager
def running() -> Iterator[Cluster]:
    """A started cluster for the duration of the block, stopped even if the block fails."""
    cluster = Cluster().start()
    try:
        yield cluster
    finally:
        cluster.stop()


def main() -> None:
    stop = False

    def on_signal(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with running() as cluster:
        print(f"primary: {cluster.url()}\nreplicas: {cluster.url(replica=True)}", flush=True)
        while not stop:
            time.sleep(0.5)
    sys.exit(0)


if __name__ == "__main__":
    main()
