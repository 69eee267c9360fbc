"""The `shop` command: serve, worker, migrate, audit, roles, employees import."""

from __future__ import annotations

import argparse
import asyncio
import sys

import asyncpg
from pydantic import ValidationError

from shop import worker
from shop.auth import authority
from shop.auth.directory import parse_names
from shop.config import Settings
from shop.db import embedded, migrate
from shop.db.pool import wait_for_database
from shop.errors import ShopError
from shop.observability.logs import setup_logging
from shop.repositories import directory as directory_repo
from shop.server import serve
from shop.services import roles as roles_service
from shop.services.audit import run_audit

SERVE_HELP = """\
Serve the HTTP API and the web app on HOST:PORT (default 0.0.0.0:8080) with WORKERS
processes sharing the port. Configuration comes from the environment (DATABASE_URL,
JWT_SECRET, PORT, WORKERS, LOG_LEVEL, ...; the README lists every variable).

With DATABASE_URL unset, an embedded PostgreSQL is started with its data in
EMBEDDED_PGDATA (default .shop-data/pgdata, relative to the current directory) and
migrated; `shop migrate` and `shop audit` use the same one when DATABASE_URL is unset.
"""


def load_settings() -> Settings:
    """Read the environment, or exit with a message naming each bad variable."""
    try:
        return Settings()
    except ValidationError as exc:
        raise SystemExit(f"invalid configuration: {_problems(exc)}") from None


def _problems(exc: ValidationError) -> str:
    """One clause per error: a field's error names the variable; a cross-field one names its own."""
    clauses = []
    for err in exc.errors():
        # A ValueError raised by a validator reads better without pydantic's "Value error, ".
        error = err.get("ctx", {}).get("error")
        message = str(error) if err["type"] == "value_error" and error is not None else err["msg"]
        name = ".".join(str(part) for part in err["loc"]).upper()
        clauses.append(f"{name}: {message}" if name else message)
    return "; ".join(clauses)


async def audit(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        report = await run_audit(conn)
    finally:
        await conn.close()
    sys.stdout.write(report.render() + "\n")
    return 0 if report.ok else 1


def read_directory_file(path: str) -> list[str] | None:
    try:
        with open(path, encoding="utf-8") as lines:
            return parse_names(lines)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        sys.stderr.write(f"{path}: {exc}\n")
        return None


async def import_employees(dsn: str, names: list[str]) -> int:
    """Add the names to the employee directory (used when EMPLOYEE_DIRECTORY=database)."""
    conn = await asyncpg.connect(dsn)
    try:
        added = await directory_repo.add(conn, names)
    finally:
        await conn.close()
    sys.stdout.write(f"{added} names added to the employee directory ({len(names)} read)\n")
    return 0


async def manage_roles(dsn: str, action: str, username: str | None, role: str | None) -> int:
    """`shop roles add|remove|list`: how the first admin is made, by database access."""
    conn = await asyncpg.connect(dsn)
    try:
        if action == "list":
            for holding in await roles_service.everyone(conn, None):
                sys.stdout.write(f"{holding.username}\t{holding.role}\n")
            return 0
        parsed = authority.parse_role(role or "")
        username = username or ""
        if action == "add":
            await roles_service.give(conn, None, username, parsed)
            sys.stdout.write(f"{username} holds {parsed}\n")
        else:
            await roles_service.take(conn, None, username, parsed)
            sys.stdout.write(f"{username} no longer holds {parsed}\n")
        return 0
    except ShopError as exc:
        sys.stderr.write(f"{exc.message}\n")
        return 1
    finally:
        await conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="shop", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "serve",
        help="run the HTTP service (HOST, PORT, WORKERS)",
        description=SERVE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands.add_parser(
        "worker",
        help="apply grants to everyone in batches; remove expired keys and login attempts",
    )
    migrate_cmd = commands.add_parser("migrate", help="apply pending migrations")
    migrate_cmd.add_argument(
        "--rollback", type=int, metavar="N", default=0, help="roll back the last N instead"
    )
    commands.add_parser("audit", help="check that every coin is accounted for (exit 1 if not)")
    roles_cmd = commands.add_parser("roles", help="who holds treasurer, operator or admin")
    roles_actions = roles_cmd.add_subparsers(dest="action", required=True)
    for action, verb in (("add", "give"), ("remove", "take away")):
        sub = roles_actions.add_parser(action, help=f"{verb} ROLE (treasurer, operator, admin)")
        sub.add_argument("username", metavar="NAME")
        sub.add_argument("role", metavar="ROLE")
    roles_actions.add_parser("list", help="every role held, one `NAME<TAB>ROLE` a line")
    employees = commands.add_parser("employees", help="the employee directory")
    employees_commands = employees.add_subparsers(dest="action", required=True)
    import_cmd = employees_commands.add_parser(
        "import", help="add the usernames of FILE (one a line) to the directory"
    )
    import_cmd.add_argument("file", metavar="FILE")
    args = parser.parse_args(argv)

    settings = load_settings()
    setup_logging(settings.log_level, access_log=settings.access_log)
    if args.command == "serve":
        return serve(settings)
    dsn = embedded.resolve_dsn(settings.database_url, settings.embedded_pgdata)
    if args.command == "migrate":
        asyncio.run(wait_for_database(dsn, settings.db_connect_attempts))
        if args.rollback:
            migrate.rollback(dsn, args.rollback)
        else:
            migrate.apply(dsn)
        return 0
    if settings.database_url is None:  # an embedded database may be new: give it the schema
        migrate.apply(dsn)
    if args.command == "worker":
        return worker.run(settings, dsn)
    if args.command == "employees":
        names = read_directory_file(args.file)
        return 1 if names is None else asyncio.run(import_employees(dsn, names))
    if args.command == "roles":
        return asyncio.run(
            manage_roles(
                dsn, args.action, getattr(args, "username", None), getattr(args, "role", None)
            )
        )
    return asyncio.run(audit(dsn))


if __name__ == "__main__":
    sys.exit(main())
