from __future__ import annotations

from shop.http.transport import OncePer


def test_once_per_interval_per_key_counting_what_was_left_unlogged() -> None:
    once = OncePer(60)

    assert once.check("a", now=0) == 0
    assert once.check("a", now=1) is None
    assert once.check("b", now=2) == 0
    assert once.check("a", now=59) is None
    assert once.check("a", now=61) == 2


def test_a_flood_of_keys_stays_bounded() -> None:
    once = OncePer(60, max_keys=10)
    for n in range(100):
        assert once.check(str(n), now=0) == 0
    assert len(once._last) <= 10
