"""The guessing policy: how many wrong passwords a name may see, and for how long it locks."""

from __future__ import annotations

from dataclasses import dataclass

from shop.config import Settings


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    """After `max_failures` wrong passwords for one name within `window_seconds`, every
    attempt for that name is refused for `lockout_seconds`, without running bcrypt."""

    max_failures: int
    window_seconds: int
    lockout_seconds: int

    @classmethod
    def from_settings(cls, settings: Settings) -> LockoutPolicy:
        return cls(
            settings.login_max_failures,
            settings.login_window_seconds,
            settings.login_lockout_seconds,
        )
