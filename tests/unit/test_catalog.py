from __future__ import annotations

import pytest

from shop.catalog import PRICES, price_of
from shop.errors import UnknownItemError
from shop.http.responses import status_of


def test_price_of_known_item() -> None:
    assert price_of("pink-hoody") == 500


@pytest.mark.parametrize("item", ["", "T-SHIRT", "t-shirt ", "hoodie", "x" * 500])
def test_price_of_unknown_item_raises_with_short_message(item: str) -> None:
    with pytest.raises(UnknownItemError) as raised:
        price_of(item)
    assert status_of(raised.value) == 400
    assert len(raised.value.message) < 120


def test_catalog_cannot_be_changed_at_run_time() -> None:
    with pytest.raises(TypeError):
        PRICES["pen"] = 0  # type: ignore[index]
