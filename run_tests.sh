#!/usr/bin/env bash
# Lint, then run the whole test suite; exits with pytest's code.
#
# Where a Docker engine answers and can build the images, everything runs in containers
# (docker-compose.test.yml). Otherwise it runs here: a venv in .venv, and PostgreSQL from
# TEST_DATABASE_URL, else the server on 127.0.0.1:5432, else a throwaway cluster started for
# this run. The suite only ever creates and drops its own uniquely named databases on that server.
# SHOP_TESTS_THROWAWAY_PG=1 starts the throwaway cluster even when a server is reachable.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

log() { printf 'run_tests: %s\n' "$*" >&2; }

# SHOP_TESTS_IN_DOCKER: auto (default) uses containers where a Docker engine answers and falls
# back to the local run when it cannot build them; yes insists on containers; no never tries.
in_docker=${SHOP_TESTS_IN_DOCKER:-auto}
if [[ "$in_docker" != "no" ]] && command -v docker >/dev/null 2>&1 \
    && docker info >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
  compose=(docker compose -f docker-compose.test.yml -p shop-tests)
  build_log=$(mktemp /tmp/shop-tests-build.XXXXXX)
  build_containers() {  # the test image, and every other image present or pulled
    local image
    "${compose[@]}" build tests || return 1
    for image in $("${compose[@]}" config --images); do
      docker image inspect "$image" >/dev/null 2>&1 || docker pull -q "$image" || return 1
    done
  }
  log "Docker engine found: building the test image (log: $build_log)"
  # Without a registry this fails within a second, at the first image that is not here.
  if build_containers >"$build_log" 2>&1; then
    rm -f "$build_log"
    log "running the suite in containers"
    trap '"${compose[@]}" down -v --remove-orphans >/dev/null 2>&1 || true' EXIT
    set +e
    "${compose[@]}" run --rm tests "$@"
    status=$?
    exit $status
  fi
  tail -n 5 "$build_log" | sed 's/^/  | /' >&2
  if [[ "$in_docker" == "yes" ]]; then
    log "the Docker engine could not build the test containers (above; full log: $build_log)"
    exit 1
  fi
  log "the Docker engine could not build the test containers (above); running locally" \
    "instead (SHOP_TESTS_IN_DOCKER=no skips the attempt)"
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

# Some tests drive real system programs from Debian's packages: nginx (tests/deploy, the
# balancer), PgBouncer (tests/pooler) and Chromium (tests/web; Playwright's own browser
# download cannot work here). CI installs what is missing, so there they always run; elsewhere
# the tests that need a missing one are skipped, and this says so in one line each.
apt_updated=""
need_program() {  # need_program BINARY PACKAGE WHAT
  local binary=$1 package=$2 what=$3
  command -v "$binary" >/dev/null 2>&1 || [[ -x "/usr/sbin/$binary" || -x "/usr/bin/$binary" ]] \
    && return 0
  if [[ "${CI:-}" == true && $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    log "CI: installing $package for $what"
    if [[ -z "$apt_updated" ]]; then apt-get update -qq >/dev/null && apt_updated=1; fi
    apt-get install -y -qq "$package" >/dev/null && return 0
    log "could not install $package: $what will be skipped"
  else
    log "$what SKIPPED: $binary is not installed (apt-get install $package to run them)"
  fi
}
need_program nginx nginx "the balancer tests (tests/deploy)"
need_program pgbouncer pgbouncer "the pooler tests (tests/pooler)"
need_program chromium chromium "the browser tests (tests/web)"
need_program patroni patroni "the HA cluster tests (tests/ha)"
need_program etcd etcd-server "the HA cluster tests (tests/ha)"
need_program haproxy haproxy "the HA cluster tests (tests/ha)"

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

log "ruff check, ruff format --check and mypy"
"$python" -m ruff check .
"$python" -m ruff format --check .
"$python" -m mypy shop

set +e
"$python" -m pytest "$@"
status=$?
set -e
exit $status
