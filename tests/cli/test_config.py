"""`shop` refuses bad configuration with a clear message, not a traceback."""

from __future__ import annotations

from tests.helpers import run_shop


async def test_invalid_configuration_is_refused_with_a_clear_message() -> None:
    result = await run_shop("serve", env={"JWT_SECRET": "short", "PORT": "99999"})

    assert result.returncode != 0
    assert "invalid configuration" in result.stderr
    assert "JWT_SECRET" in result.stderr
    assert "PORT" in result.stderr


async def test_commands_other_than_serve_need_a_database_url() -> None:
    result = await run_shop("audit", env={"DATABASE_URL": ""})

    assert result.returncode != 0
    assert "DATABASE_URL is not set" in result.stderr
