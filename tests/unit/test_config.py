"""Settings: the pool's size rules."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shop.config import Settings


def test_the_pool_is_of_fixed_size_unless_a_minimum_is_given() -> None:
    assert Settings(pool_max_size=12).pool_floor == 12
    assert Settings(pool_min_size=3, pool_max_size=12).pool_floor == 3


def test_a_minimum_above_the_maximum_is_refused_by_name() -> None:
    with pytest.raises(ValidationError, match=r"POOL_MIN_SIZE \(9\) must not exceed"):
        Settings(pool_min_size=9, pool_max_size=8)
