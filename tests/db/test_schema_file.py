"""docs/schema.sql is the schema the migrations make, so a reader never replays them by hand."""

from __future__ import annotations

import difflib
import subprocess
import sys
from pathlib import Path

import pytest

from shop.db import schema


def test_schema_file_is_what_the_migrations_make(admin_url: str, tmp_path: Path) -> None:
    committed = schema.checkout_file().read_text(encoding="utf-8")
    major = schema.server_major(admin_url)
    if schema.recorded_major(committed) != major:
        pytest.skip(f"docs/schema.sql is another PostgreSQL's dump; this server is {major}")
    try:
        schema.find_pg_dump(major)
    except schema.SchemaDumpError as exc:
        pytest.skip(str(exc))
    regenerated = tmp_path / "schema.sql"

    result = subprocess.run(
        [sys.executable, "-m", "shop.db.schema", "--output", str(regenerated), admin_url],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    fresh = regenerated.read_text(encoding="utf-8")
    if fresh != committed:
        diff = difflib.unified_diff(
            committed.splitlines(), fresh.splitlines(), "docs/schema.sql", "migrations", lineterm=""
        )
        pytest.fail(
            f"docs/schema.sql is not the schema the migrations make: run `{schema.COMMAND}`"
            " (it migrates a scratch database on 127.0.0.1:5432, or on the server URL given"
            " as its argument) and commit the file.\n" + "\n".join(list(diff)[:60]),
            pytrace=False,
        )
