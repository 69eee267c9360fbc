#!/usr/bin/env bash
# The whole load benchmark (python -m ammo run, see ammo/README.md), from this checkout's venv.
exec "${BENCH_VENV:-$(dirname "$0")/../.venv}/bin/python" -m ammo run "$@"
