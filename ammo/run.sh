#!/usr/bin/env bash
# The whole load benchmark in one command, on a fresh database, in under 10 minutes:
#
#   ammo/run.sh            # results and REPORT.md in ammo/results/
#
# Needs PostgreSQL reachable at BENCH_PG (default postgresql://postgres@127.0.0.1:5432, a
# role that may CREATE DATABASE) and python3 >= 3.11. Creates .venv (pip install -e '.[load]')
# unless BENCH_VENV points at one that has shop, locust and matplotlib. Every process it
# starts is stopped on exit and its database is dropped (BENCH_KEEP_DB=1 keeps it).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
RESULTS="$ROOT/ammo/results"
PG="${BENCH_PG:-postgresql://postgres@127.0.0.1:5432}"
DB="shop_bench_$(date +%Y%m%d_%H%M%S)"
DSN="$PG/$DB"
PORT="${BENCH_PORT:-18480}"
CEILING_PORT=$((PORT + 1))
VENV="${BENCH_VENV:-$ROOT/.venv}"
WORKERS=2
HASH_THREADS="${BENCH_HASH_THREADS:-1}"
BCRYPT_ROUNDS="${BENCH_BCRYPT_ROUNDS:-10}"
HASH_NICENESS="${BENCH_HASH_NICENESS:-10}"
POOL_MAX_SIZE="${BENCH_POOL_MAX_SIZE:-16}"
MIXED_USERS=100
INFO_RATE=500
CEILING_STEPS="max:20"
FLOOR_STEPS="1000:60"
GOAL_STEPS="1500:60"
STEPS="500:12,750:12,1000:12,1250:12,1500:12,1750:12,2000:12,2500:12"
HOT_STEPS="1000:30,1500:30"
STORM_STEPS="$INFO_RATE:45"
PROFILE_STEPS="1000:15"
if [[ "${BENCH_QUICK:-0}" == 1 ]]; then  # a smoke test of this script, not a measurement
  CEILING_STEPS="max:5" FLOOR_STEPS="1000:5" GOAL_STEPS="1500:5" STEPS="500:4,1000:4"
  HOT_STEPS="1000:5" STORM_STEPS="$INFO_RATE:5" PROFILE_STEPS="1000:12"
fi
STARTED=$(date +%s)

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*"; }

if ! "$VENV/bin/python" -c "import shop, locust, matplotlib" 2>/dev/null; then
  log "creating $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q -e ".[load]"
fi
PY="$VENV/bin/python"
export PYTHONPATH="$ROOT"  # this checkout's shop, whatever the venv has installed

PIDS=()
cleanup() {
  local status=$?
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [[ "${BENCH_KEEP_DB:-0}" != 1 ]]; then
    "$PY" - "$PG" "$DB" <<'EOF' || true
import asyncio, sys, asyncpg
async def drop(pg: str, db: str) -> None:
    conn = await asyncpg.connect(f"{pg}/postgres")
    await conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    await conn.close()
asyncio.run(drop(*sys.argv[1:]))
EOF
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_port() {
  for _ in $(seq 1 100); do
    (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.2
  done
  log "nothing listens on port $1" && return 1
}

mkdir -p "$RESULTS"
rm -f "$RESULTS"/*.csv "$RESULTS"/*.png "$RESULTS"/*.log "$RESULTS"/*.json \
  "$RESULTS"/audit_*.txt "$RESULTS"/profile_*.txt

export DATABASE_URL="$DSN" JWT_SECRET="bench-$(head -c 24 /dev/urandom | base64 | tr -d '/+=')"
export WORKERS HASH_THREADS HASH_NICENESS BCRYPT_ROUNDS POOL_MAX_SIZE
export HOST=127.0.0.1 LOG_LEVEL=WARNING

log "machine facts; hashing capacity with $((WORKERS * HASH_THREADS)) threads"
"$PY" - "$RESULTS/machine.json" <<'EOF'
import json, os, platform, subprocess, sys
import locust
model = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
mem = next(l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal"))
facts = {
    "nproc": os.cpu_count(),
    "CPU": model,
    "memory": f"{int(mem) / 1024 / 1024:.1f} GiB",
    "kernel": platform.release(),
    "Python": platform.python_version(),
    "locust": locust.__version__,
    "load average before the run (1, 5, 15 min)": " ".join(f"{v:.2f}" for v in os.getloadavg()),
}
json.dump(facts, open(sys.argv[1], "w"), indent=1)
EOF
"$PY" ammo/hash_capacity.py $((WORKERS * HASH_THREADS)) "$BCRYPT_ROUNDS" "$RESULTS/hash_capacity.json"

log "database $DB: create, migrate, seed"
"$PY" - "$PG" "$DB" "$RESULTS/machine.json" <<'EOF'
import asyncio, json, sys, asyncpg
async def create(pg: str, db: str, facts: str) -> None:
    conn = await asyncpg.connect(f"{pg}/postgres")
    await conn.execute(f'CREATE DATABASE "{db}"')
    data = json.load(open(facts))
    data["PostgreSQL"] = (await conn.fetchval("SELECT version()")).split(" on ")[0]
    data["PostgreSQL shared_buffers / max_connections"] = " / ".join(
        [await conn.fetchval("SHOW shared_buffers"), await conn.fetchval("SHOW max_connections")])
    json.dump(data, open(facts, "w"), indent=1)
    await conn.close()
asyncio.run(create(*sys.argv[1:]))
EOF
"$PY" -m shop migrate >/dev/null
SEEDED=$("$PY" ammo/seed.py)
log "$SEEDED"

log "ceiling: $WORKERS processes of ammo/ceiling.py"
CEILING_PIDS=()
for _ in $(seq 1 "$WORKERS"); do
  PORT=$CEILING_PORT "$PY" ammo/ceiling.py &
  CEILING_PIDS+=($!)
  PIDS+=($!)
done
wait_port "$CEILING_PORT"

AUDIT_FAILED=0
run_locust() {  # NAME HOST_PORT USERS STEPS CLASS...
  local name=$1 port=$2 users=$3 steps=$4
  shift 4
  local seconds
  seconds=$(tr ',' '\n' <<<"$steps" | awk -F: '{s += ($2 == "" ? 60 : $2)} END {print s}')
  log "$name: $* ($users users, steps $steps)"
  LOAD_RATE_STEPS="$steps" LOAD_STEPS_CSV="$RESULTS/${name}_steps.csv" LOAD_DBNAME="$DB" \
    LOAD_SERVICE_PIDS="${SERVICE_PIDS:-}" LOAD_INFO_RATE="$INFO_RATE" \
    LOAD_STOP_P99_MS="${STOP_P99_MS:-0}" \
    "$VENV/bin/locust" -f ammo/locustfile.py --headless -u "$users" -r "$users" \
    --run-time "$((seconds + 60))s" --stop-timeout 5 -H "http://127.0.0.1:$port" \
    --csv "$RESULTS/$name" --csv-full-history --only-summary --loglevel WARNING \
    "$@" >"$RESULTS/$name.log" 2>&1 || log "$name: locust exited $?"
  grep '^step' "$RESULTS/$name.log" || true
}
audit() {
  if "$PY" -m shop audit >"$RESULTS/audit_$1.txt" 2>&1; then
    log "audit after $1: $(tail -1 "$RESULTS/audit_$1.txt")"
  else
    AUDIT_FAILED=1
    log "audit after $1 FAILED: $(cat "$RESULTS/audit_$1.txt")"
  fi
}

SERVICE_PIDS="${CEILING_PIDS[*]}" run_locust ceiling "$CEILING_PORT" 64 "$CEILING_STEPS" CeilingUser
kill "${CEILING_PIDS[@]}" && wait "${CEILING_PIDS[@]}" 2>/dev/null || true

log "service: shop serve, WORKERS=$WORKERS HASH_THREADS=$HASH_THREADS POOL_MAX_SIZE=$POOL_MAX_SIZE"
PORT=$PORT "$VENV/bin/shop" serve &
SERVICE_PIDS=$!
PIDS+=("$SERVICE_PIDS")
wait_port "$PORT"

run_locust mixed_floor "$PORT" "$MIXED_USERS" "$FLOOR_STEPS" MixedEmployee
audit mixed_floor
run_locust mixed_goal "$PORT" 150 "$GOAL_STEPS" MixedEmployee
audit mixed_goal
STOP_P99_MS=50 run_locust mixed_steps "$PORT" 150 "$STEPS" MixedEmployee
audit mixed_steps
run_locust hot "$PORT" "$MIXED_USERS" "$HOT_STEPS" HotColleagueEmployee
audit hot
run_locust storm "$PORT" 66 "$STORM_STEPS" InfoReader StormLogin
audit storm

log "/api/info: long history vs new employee"
"$PY" ammo/probe_info.py "http://127.0.0.1:$PORT" "$RESULTS/info_history.json" >/dev/null

if [[ -x "$VENV/bin/py-spy" ]]; then
  log "profile: py-spy on both workers during mixed at 1000/s"
  (
    sleep 12
    for pid in $(pgrep -P "$SERVICE_PIDS" -f spawn_main); do
      "$VENV/bin/py-spy" record -p "$pid" -d 10 -r 100 -f raw --nonblocking \
        -o "$RESULTS/profile_$pid.txt" >/dev/null 2>&1 &
    done
    wait
  ) &
  PROFILER=$!
  run_locust profile "$PORT" "$MIXED_USERS" "$PROFILE_STEPS" MixedEmployee
  wait "$PROFILER" || true
  audit profile
fi

"$PY" - "$RESULTS/run.json" "$STARTED" "$SEEDED" <<EOF
import json, sys, time
scenarios = [
    {"name": "ceiling", "title": "Ceiling: JWT check + one SELECT (ammo/ceiling.py)",
     "what": "GET /api/ceiling as fast as it goes, 64 users, $WORKERS processes on one port, "
             "the service's own token codec and pool settings. The yardstick for the rest."},
    {"name": "mixed_floor", "title": "Mixed at 1,000 requests/s for 60 s (the floor)",
     "what": "80% GET /api/info, 10% GET /api/buy/{pen|socks|cup}, 10% POST /api/sendCoin "
             "of 1-5 coins to a random one of 99,000 colleagues; $MIXED_USERS users paced to a "
             "constant total arrival rate; 5% of them are broke employees whose 400s count "
             "as success."},
    {"name": "mixed_goal", "title": "Mixed at 1,500 requests/s for 60 s (the goal)",
     "what": "As above, 150 users."},
    {"name": "mixed_steps", "title": "Mixed, stepping the rate to find the highest good one",
     "what": "As above, 150 users, 12 s per step, stopping after the first step with p99 over "
             "50 ms, a failure or less than 97% of the rate."},
    {"name": "hot", "title": "Hot colleague",
     "what": "Half the requests send 1 coin to one and the same employee, half read "
             "/api/info; $MIXED_USERS users, 30 s at 1,000/s then 30 s at 1,500/s."},
    {"name": "storm", "title": "Login storm",
     "what": "16 users log in back to back (half first logins of new employees, half "
             "re-logins of seeded ones; bcrypt cost $BCRYPT_ROUNDS) while 50 users read "
             "/api/info at $INFO_RATE/s in total."},
]
run = {
    "run_id": "$DB",
    "code": "$(git -C "$ROOT" log -1 --format=%h -- shop migrations 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet HEAD -- shop migrations 2>/dev/null || echo +changes)",
    "total_seconds": round(time.time() - int(sys.argv[2])),
    "locust_note": "no --processes: one locust process uses well under one core at these "
                   "rates, and a second one would only take more CPU from the service",
    "settings": {
        "service": "shop serve, WORKERS=$WORKERS, HASH_THREADS=$HASH_THREADS (per worker), "
                   "HASH_NICENESS=$HASH_NICENESS, BCRYPT_ROUNDS=$BCRYPT_ROUNDS, "
                   "POOL_MAX_SIZE=$POOL_MAX_SIZE",
        "seed": sys.argv[3],
        "database": "fresh, dropped afterwards",
    },
    "scenarios": scenarios,
}
if any(__import__("pathlib").Path("$RESULTS").glob("profile_*.txt")):
    scenarios.append({"name": "profile", "title": "Mixed at 1,000/s under py-spy (profiling run)",
                      "what": "Only to sample the workers; figures are perturbed by the profiler."})
json.dump(run, open(sys.argv[1], "w"), indent=1)
EOF
"$PY" ammo/report.py "$RESULTS" --record
log "done in $(($(date +%s) - STARTED)) s: $RESULTS/REPORT.md"
exit "$AUDIT_FAILED"
