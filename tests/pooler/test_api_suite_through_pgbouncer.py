"""The whole API suite again, with every app under test behind PgBouncer in transaction mode."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.pooler.bouncer import pgbouncer_binary

ROOT = Path(__file__).parents[2]

DIRECT_ONLY = "tests/api/test_login_perimeter.py"
"""Its `shop serve` (the perimeter_server fixture) connects straight to the database anyway."""


def test_the_api_suite_passes_with_the_app_behind_pgbouncer() -> None:
    if pgbouncer_binary() is None:
        pytest.skip("pgbouncer is not installed; run_tests.sh installs it under CI=true")
    env = {**os.environ, "SHOP_TESTS_THROUGH_PGBOUNCER": "1"}
    command = [sys.executable, "-m", "pytest", "tests/api", "--ignore", DIRECT_ONLY]
    command += ["-q", "-p", "no:cacheprovider", "--no-cov"]
    result = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800, check=False
    )

    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert " passed" in result.stdout.splitlines()[-1]
