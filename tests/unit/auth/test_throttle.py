from __future__ import annotations

import pytest
from pydantic import ValidationError

from shop.auth.throttle import ThrottlePolicy
from shop.config import Settings


def test_defaults_give_five_attempts_then_waits_doubling_from_30_s_up_to_300_s() -> None:
    policy = ThrottlePolicy.from_settings(Settings())

    waits = [policy.wait_after(n) for n in range(1, 12)]

    assert waits == [0, 0, 0, 0, 30, 60, 120, 240, 300, 300, 300]


def test_the_longest_wait_must_be_shorter_than_the_quiet_time_that_forgets() -> None:
    with pytest.raises(ValidationError, match="LOGIN_LOCKOUT_SECONDS must be less than"):
        Settings(login_lockout_seconds=900, login_window_seconds=900)


@pytest.mark.parametrize(
    "env",
    [
        {"LOGIN_MAX_FAILURES": "0"},
        {"LOGIN_BACKOFF_BASE_SECONDS": "0"},
        {"LOGIN_NAME_MAX_FAILURES": "0"},
        {"TRUSTED_PROXIES": "not-an-address"},
        {"HASH_WAIT_SECONDS": "0"},
        {"MAX_CONNECTIONS": "0"},
        {"EMPLOYEE_DIRECTORY": "/no/such/file"},
    ],
)
def test_bad_perimeter_settings_stop_the_start(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings()


def test_trusted_proxies_are_a_comma_separated_list_of_networks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1,::1")
    assert [str(n) for n in Settings().trusted_proxies] == ["10.0.0.0/8", "127.0.0.1/32", "::1/128"]


def test_transport_defaults_keep_alive_a_minute() -> None:
    settings = Settings()
    assert settings.keepalive_seconds == 60
    assert settings.employee_directory is None
