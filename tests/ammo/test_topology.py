"""The benchmark's scale-out topology (ammo/topology.py): configured from deploy/, it serves
the API through nginx and PgBouncer and leaves no process behind when stopped."""

from __future__ import annotations

import configparser
import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from ammo import cpu
from ammo.processes import wait_port
from ammo.topology import PGBOUNCER_INI, pgbouncer_ini
from tests.deploy.balancer import find_nginx
from tests.helpers import free_port
from tests.pooler.bouncer import pgbouncer_binary

ROOT = Path(__file__).resolve().parents[2]


def parsed(text: str) -> configparser.ConfigParser:
    ini = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    ini.optionxform = str  # type: ignore[assignment,method-assign]
    ini.read_string(text)
    return ini


def test_pgbouncer_config_is_the_deployed_one_with_only_addresses_and_auth_changed(
    tmp_path: Path,
) -> None:
    deployed = parsed(PGBOUNCER_INI.read_text())
    local = parsed(
        pgbouncer_ini(
            PGBOUNCER_INI.read_text(), "postgresql://postgres@10.1.2.3:5433/bench_x", 7000, tmp_path
        )
    )
    ((_, deployed_line),) = deployed["databases"].items()
    assert list(local["databases"]) == ["bench_x"]
    line = local["databases"]["bench_x"]
    assert "host=10.1.2.3" in line
    assert "port=5433" in line
    assert "dbname=bench_x" in line
    deployed_query = deployed_line[deployed_line.index("connect_query=") :]
    assert line.endswith(deployed_query)
    changed = {"listen_addr", "listen_port", "auth_type", "auth_file", "logfile", "pidfile"}
    for key, value in deployed["pgbouncer"].items():
        if key not in changed:
            assert local["pgbouncer"][key] == value, key
    assert local["pgbouncer"]["pool_mode"] == "transaction"
    assert local["pgbouncer"]["listen_port"] == "7000"


@pytest.mark.skipif(
    find_nginx() is None or pgbouncer_binary() is None, reason="needs Debian's nginx and pgbouncer"
)
def test_topology_serves_through_nginx_and_pgbouncer_and_stops_every_part(
    database_url: str,
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "JWT_SECRET": secrets.token_urlsafe(32),
        "AMMO_TARGET_PORT": str(port),
        "HOST": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
        "BCRYPT_ROUNDS": "4",
        "PYTHONPATH": str(ROOT),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "ammo.topology", "replicas", "2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    children: list[int] = []
    try:
        wait_port(port, proc, timeout=120)  # a hang guard only
        procs = cpu.processes()
        children += [pid for pid, (ppid, _, _) in procs.items() if ppid == proc.pid]
        commands = [procs[pid][1] for pid in children]
        assert sum("-m shop serve" in c for c in commands) == 2, commands
        assert sum("pgbouncer" in c for c in commands) == 1, commands
        assert sum(c.startswith("nginx: master") for c in commands) == 1, commands

        url = f"http://127.0.0.1:{port}"
        name = f"topo_{secrets.token_hex(4)}"
        auth = requests.post(
            f"{url}/api/auth", json={"username": name, "password": "pw-topology-1"}, timeout=30
        )
        assert auth.status_code == 200, auth.text
        token = auth.json()["token"]
        info = requests.get(
            f"{url}/api/info", headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        assert info.status_code == 200, info.text
        assert info.headers.get("X-Request-Id")
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
    alive = set(cpu.processes())
    assert not alive & set(children)
