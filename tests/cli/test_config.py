"""`shop` refuses bad configuration with a clear message, not a traceback."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from shop.config import Settings
from tests.helpers import run_shop


async def test_invalid_configuration_is_refused_with_a_clear_message() -> None:
    result = await run_shop("serve", env={"JWT_SECRET": "short", "PORT": "99999"})

    assert result.returncode != 0
    assert "invalid configuration" in result.stderr
    assert "JWT_SECRET" in result.stderr
    assert "PORT" in result.stderr


async def test_a_port_in_use_is_one_clear_line_and_never_serving(database_url: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = await run_shop(
            "serve",
            env={"DATABASE_URL": database_url, "HOST": "127.0.0.1", "PORT": str(port)},
        )

    assert result.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in result.stderr
    assert "Traceback" not in result.stderr
    assert "serving on" not in result.stderr


async def test_an_unknown_host_is_one_clear_line(database_url: str) -> None:
    result = await run_shop(
        "serve", env={"DATABASE_URL": database_url, "HOST": "no-such-host.invalid", "PORT": "18999"}
    )

    assert result.returncode != 0
    assert "cannot listen on no-such-host.invalid:18999:" in result.stderr
    assert "Traceback" not in result.stderr


async def test_an_unusable_embedded_data_directory_is_one_clear_line(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    result = await run_shop(
        "audit", env={"DATABASE_URL": "", "EMBEDDED_PGDATA": str(blocker / "pgdata")}
    )

    assert result.returncode != 0
    assert f"cannot start the embedded PostgreSQL in {blocker / 'pgdata'}" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_shipped_env_example_is_valid_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    example = Path(__file__).resolve().parents[2] / ".env.example"
    for line in example.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            monkeypatch.setenv(name.strip(), value.strip())

    settings = Settings()

    assert settings.login_lockout_seconds < settings.login_window_seconds


async def test_a_cross_field_error_is_its_own_message_without_pydantic_prefix() -> None:
    result = await run_shop(
        "serve", env={"LOGIN_LOCKOUT_SECONDS": "300", "LOGIN_WINDOW_SECONDS": "300"}
    )

    assert result.returncode != 0
    assert (
        "invalid configuration: LOGIN_LOCKOUT_SECONDS must be less than LOGIN_WINDOW_SECONDS"
        in result.stderr
    )
    assert "Value error" not in result.stderr
