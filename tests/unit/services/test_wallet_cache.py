"""WalletCache: bounded, and never trusted past its age limit."""

from __future__ import annotations

import pytest

from shop.services import wallet
from shop.services.wallet import WalletCache


def test_a_kept_body_is_held_with_its_version() -> None:
    cache = WalletCache(size=10)

    cache.keep(1, version=42, body='{"coins": 1}')

    assert cache.held(1) == (42, '{"coins": 1}')
    assert cache.held(2) is None


def test_a_full_cache_starts_over_instead_of_growing() -> None:
    cache = WalletCache(size=2)
    cache.keep(1, 1, "a")
    cache.keep(2, 2, "b")

    cache.keep(3, 3, "c")

    assert (cache.held(1), cache.held(2), cache.held(3)) == (None, None, (3, "c"))


def test_size_zero_keeps_nothing() -> None:
    cache = WalletCache(size=0)

    cache.keep(1, 1, "a")

    assert cache.held(1) is None


def test_a_copy_older_than_the_age_limit_is_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(wallet.time, "monotonic", lambda: now[0])
    cache = WalletCache(size=10)
    cache.keep(1, 1, "a")

    now[0] += WalletCache.MAX_AGE_SECONDS - 1
    assert cache.held(1) == (1, "a")
    now[0] += 2
    assert cache.held(1) is None
