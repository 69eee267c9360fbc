"""`shop migrate`: apply or roll back the numbered SQL files in migrations/ with yoyo."""

from __future__ import annotations

import contextlib
import importlib.util
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
from yoyo import get_backend, read_migrations

from shop.auth.usernames import skeleton
from shop.repositories import skeletons

log = logging.getLogger(__name__)
logging.getLogger("yoyo").setLevel(logging.WARNING)


def migrations_dir() -> Path:
    """migrations/ of the source tree, else the copy a regular install ships in the package."""
    checkout = Path(__file__).resolve().parents[2] / "migrations"
    if checkout.is_dir():
        return checkout
    spec = importlib.util.find_spec("shop.migrations")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the migrations are missing from this installation")
    return Path(next(iter(spec.submodule_search_locations)))


def yoyo_url(dsn: str) -> str:
    """yoyo picks its driver from the scheme; psycopg 3 is ours."""
    scheme, sep, rest = dsn.partition("://")
    if not sep or scheme not in {"postgresql", "postgres"}:
        raise ValueError("DATABASE_URL must start with postgresql://")
    return f"postgresql+psycopg://{rest}"


@contextlib.contextmanager
def _locked_backend(dsn: str) -> Iterator[Any]:
    """yoyo's backend under its lock table, so concurrent appliers take turns."""
    backend = get_backend(yoyo_url(dsn))
    try:
        with backend.lock():
            yield backend
    finally:
        backend.connection.close()


def apply(dsn: str, steps: int | None = None) -> list[str]:
    """Apply pending migrations (all, or the next `steps`); return the ids applied."""
    migrations = read_migrations(str(migrations_dir()))
    with _locked_backend(dsn) as backend:
        pending = backend.to_apply(migrations)[:steps]
        backend.apply_migrations(pending)
    applied = [m.id for m in pending]
    log.info("migrations applied: %s", ", ".join(applied) or "none pending")
    _refresh_skeletons(dsn)
    return applied


def _refresh_skeletons(dsn: str) -> None:
    """Store the skeleton of every name whose stored one is missing or differs.

    Skeletons are computed in Python (shop/auth/usernames.py), so SQL migrations cannot fill
    them: the run that applies 0008 fills the new column, and a later library version that
    moves some skeletons is caught up the same way.
    """
    with psycopg.connect(dsn) as conn:
        changed = refresh_skeletons(conn)
    if changed:
        log.info("username skeletons stored for %d employees", changed)


def refresh_skeletons(conn: psycopg.Connection) -> int:
    """Store every missing or outdated username skeleton; return how many were stored."""
    if not skeletons.has_column(conn):  # rolled back below 0008
        return 0
    ids, keys = [], []
    for user_id, name, stored in skeletons.all_names(conn):
        key = skeleton(name)
        if key != stored:
            ids.append(user_id)
            keys.append(key)
    if ids:
        skeletons.set_skeletons(conn, ids, keys)
    return len(ids)


def rollback(dsn: str, steps: int = 1) -> list[str]:
    """Roll back the last `steps` applied migrations; return their ids."""
    migrations = read_migrations(str(migrations_dir()))
    with _locked_backend(dsn) as backend:
        undo = backend.to_rollback(migrations)[:steps]
        backend.rollback_migrations(undo)
    undone = [m.id for m in undo]
    log.info("migrations rolled back: %s", ", ".join(undone) or "none applied")
    return undone
