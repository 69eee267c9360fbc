"""The contract's response shapes the service never builds as models, kept to check bodies.

GET /api/info's body is rendered by one SQL statement (shop/repositories/wallet.py), so only
the tests parse it: strictly, so a field too many or missing fails the test.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InventoryItem(_Strict):
    type: str
    quantity: int = Field(ge=1)


class ReceivedEntry(_Strict):
    from_user: str = Field(alias="fromUser")
    amount: int = Field(ge=1)


class SentEntry(_Strict):
    to_user: str = Field(alias="toUser")
    amount: int = Field(ge=1)


class CoinHistory(_Strict):
    received: list[ReceivedEntry]
    sent: list[SentEntry]


class InfoResponse(_Strict):
    """The shape of GET /api/info."""

    coins: int = Field(ge=0)
    inventory: list[InventoryItem]
    coin_history: CoinHistory = Field(alias="coinHistory")


ASSIGNMENT_PRICES = {
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
"""The price list the assignment gives: what a buyer must be charged, not a copy of the code's."""
