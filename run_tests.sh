#!/usr/bin/env bash
# Lint, then run the whole test suite; exits with pytest's code.
#
# Where a Docker engine answers, everything runs in containers (docker-compose.test.yml).
# Otherwise it runs here: a venv in .venv, and PostgreSQL from TEST_DATABASE_URL, else the
# server on 127.0.0.1:5432, else a throwaway cluster started for this run. The suite only
# ever creates and drops its own uniquely named databases on that server.
# SHOP_TESTS_THROWAWAY_PG=1 starts the throwaway cluster even when a server is reachable.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

log() { printf 'run_tests: %s\n' "$*" >&2; }

if [[ "${SHOP_TESTS_IN_DOCKER:-auto}" != "no" ]] && command -v docker >/dev/null 2>&1 \
    && docker info >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
  log "Docker engine found: running the suite in containers"
  compose=(docker compose -f docker-compose.test.yml -p shop-tests)
  trap '"${compose[@]}" down -v --remove-orphans >/dev/null 2>&1 || true' EXIT
  "${compose[@]}" build tests
  set +e
  "${compose[@]}" run --rm tests "$@"
  status=$?
  exit $status
fi

# --- local run ---------------------------------------------------------------------------
if [[ "${SHOP_TESTS_PYTHON:-}" == "system" ]]; then
  python=python3  # inside the test image: dependencies are already installed
else
  venv=${SHOP_TESTS_VENV:-.venv}
  if [[ ! -x "$venv/bin/python" ]]; then
    log "creating $venv"
    "${PYTHON:-python3}" -m venv "$venv"
  fi
  python="$venv/bin/python"
  stamp="$venv/.shop-installed"
  if [[ ! -f "$stamp" ]] || [[ pyproject.toml -nt "$stamp" ]]; then
    log "installing the project with its test dependencies"
    "$python" -m pip install --quiet --disable-pip-version-check -e '.[test]'
    touch "$stamp"
  fi
fi

can_connect() {
  "$python" - "$1" <<'PY' >/dev/null 2>&1
import asyncio, sys
import asyncpg

async def main() -> None:
    conn = await asyncpg.connect(sys.argv[1], timeout=3)
    await conn.close()

asyncio.run(main())
PY
}

pg_bindir="" pg_dir="" as_postgres=()
stop_throwaway_cluster() {
  "${as_postgres[@]}" "$pg_bindir/pg_ctl" -D "$pg_dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$pg_dir"
}

start_throwaway_cluster() {
  local initdb port
  initdb=$(command -v initdb || ls -1 /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)
  if [[ -z "$initdb" ]]; then
    log "no PostgreSQL binaries here: the suite will start an embedded PostgreSQL"
    export SHOP_TEST_EMBEDDED_PG=1
    return
  fi
  pg_bindir=$(dirname "$initdb")
  pg_dir=$(mktemp -d /tmp/shop-test-pg.XXXXXX)
  port=$("$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  if [[ $(id -u) == 0 ]]; then  # initdb and pg_ctl refuse to run as root
    chown postgres: "$pg_dir"
    as_postgres=(runuser -u postgres --)
  fi
  log "starting a throwaway PostgreSQL in $pg_dir on port $port"
  trap stop_throwaway_cluster EXIT
  "${as_postgres[@]}" "$pg_bindir/initdb" -D "$pg_dir/data" -U postgres --auth=trust >/dev/null
  "${as_postgres[@]}" "$pg_bindir/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/log" -w \
    -o "-p $port -k $pg_dir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
  export TEST_DATABASE_URL="postgresql://postgres@127.0.0.1:$port/postgres"
}

if [[ "${SHOP_TESTS_THROWAWAY_PG:-}" == 1 ]]; then
  start_throwaway_cluster
elif [[ -n "${TEST_DATABASE_URL:-}" ]]; then
  log "using TEST_DATABASE_URL"
elif can_connect "postgresql://postgres@127.0.0.1:5432/postgres"; then
  log "using the PostgreSQL on 127.0.0.1:5432"
  export TEST_DATABASE_URL="postgresql://postgres@127.0.0.1:5432/postgres"
else
  start_throwaway_cluster
fi

# tests/pooler runs the service through Debian's PgBouncer; CI installs it when missing.
if ! command -v pgbouncer >/dev/null 2>&1 && [[ ! -x /usr/sbin/pgbouncer ]]; then
  if [[ "${CI:-}" == true && $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    log "installing pgbouncer for tests/pooler"
    apt-get update -qq >/dev/null && apt-get install -y -qq pgbouncer >/dev/null \
      || log "could not install pgbouncer: tests/pooler will be skipped"
  else
    log "pgbouncer is not installed: tests/pooler will be skipped"
  fi
fi

log "ruff check and ruff format --check"
"$python" -m ruff check .
"$python" -m ruff format --check .

set +e
"$python" -m pytest "$@"
status=$?
set -e
exit $status
