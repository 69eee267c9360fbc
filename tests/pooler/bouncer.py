"""A real PgBouncer (Debian's package) in transaction pooling mode, started for the tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from yarl import URL

from tests.helpers import free_port

SERVER_CONNECTIONS = 4
"""Few server connections for many clients: every transaction may land on another one."""

SERVER_LIMITS = (
    "SET lock_timeout = 2500; SET statement_timeout = 5000;"
    " SET client_connection_check_interval = 250"
)
"""The server connections' own limits, as a deployment sets them (docs/reliability.md)."""


def pgbouncer_binary() -> str | None:
    return shutil.which("pgbouncer") or next(
        (p for p in ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer") if os.access(p, os.X_OK)), None
    )


class PgBouncer:
    """PgBouncer on a free port in front of the server `upstream` names; stop() ends it."""

    def __init__(self, upstream: str) -> None:
        binary = pgbouncer_binary()
        if binary is None:
            raise FileNotFoundError("pgbouncer is not installed (apt-get install pgbouncer)")
        server = URL(upstream)
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="shop-pgbouncer-"))
        self.log = self.dir / "pgbouncer.log"
        (self.dir / "users.txt").write_text(f'"{server.user or "postgres"}" ""\n')
        (self.dir / "pgbouncer.ini").write_text(
            "[databases]\n"
            f"* = host={server.host or '127.0.0.1'} port={server.port or 5432}"
            f" connect_query='{SERVER_LIMITS}'\n"
            "[pgbouncer]\n"
            "listen_addr = 127.0.0.1\n"
            f"listen_port = {self.port}\n"
            "unix_socket_dir =\n"
            "auth_type = trust\n"
            f"auth_file = {self.dir / 'users.txt'}\n"
            "pool_mode = transaction\n"
            f"default_pool_size = {SERVER_CONNECTIONS}\n"
            "max_client_conn = 1000\n"
            # Nothing is ignored: a client sending a session setting at start-up is refused.
            "ignore_startup_parameters =\n"
            # A refused server login (a busy shared server: too many clients) is retried soon.
            "server_login_retry = 1\n"
            "log_connections = 0\n"
            "log_disconnections = 0\n"
            f"logfile = {self.log}\n"
            f"pidfile = {self.dir / 'pgbouncer.pid'}\n"
        )
        command = [binary, str(self.dir / "pgbouncer.ini")]
        if os.geteuid() == 0:  # PgBouncer refuses to run as root
            shutil.chown(self.dir, "postgres")
            for path in self.dir.iterdir():
                shutil.chown(path, "postgres")
            command[1:1] = ["-u", "postgres"]
        # Its output goes to a file: PgBouncer writes every log line to stderr as well, and a
        # pipe nobody reads fills up and blocks it (it then stops answering anyone).
        with (self.dir / "stderr.log").open("wb") as stderr:
            self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr)
        self._wait_listening()

    def url(self, database_url: str) -> str:
        """The same database as `database_url`, through this PgBouncer."""
        return str(URL(database_url).with_host("127.0.0.1").with_port(self.port))

    def _wait_listening(self, seconds: float = 15) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = (self.dir / "stderr.log").read_text()
                raise RuntimeError(f"pgbouncer exited at start: {err}{self.log_text()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
            except OSError:
                time.sleep(0.05)
            else:
                return
        self.stop()
        raise TimeoutError(f"pgbouncer did not listen on {self.port}: {self.log_text()}")

    def log_text(self) -> str:
        return self.log.read_text() if self.log.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
