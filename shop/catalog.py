"""The merch catalog: ten items with fixed prices and infinite stock, and the coins to buy them."""

from __future__ import annotations

from types import MappingProxyType

from shop.errors import UnknownItemError

STARTING_BALANCE = 1000
"""Coins every employee gets on first login; `shop audit` counts from it."""

PRICES: MappingProxyType[str, int] = MappingProxyType(
    {
        "t-shirt": 80,
        "cup": 20,
        "book": 50,
        "pen": 10,
        "powerbank": 200,
        "hoody": 300,
        "umbrella": 200,
        "socks": 10,
        "wallet": 50,
        "pink-hoody": 500,
    }
)


def price_of(item: str) -> int:
    """Return the price of `item`, or raise UnknownItemError."""
    try:
        return PRICES[item]
    except KeyError:
        raise UnknownItemError(item[:80]) from None
