"""Request and response bodies, named exactly as in the OpenAPI contract."""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

MAX_AMOUNT = 2**31 - 1
"""Largest amount a transfer may name: the range of the balance column."""

PASSWORD_MAX_BYTES = 72
"""bcrypt reads at most 72 bytes; a longer password is refused rather than truncated."""


def _printable(value: str) -> str:
    # PostgreSQL cannot store NUL, and control characters in a name only serve to confuse.
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise ValueError("must not contain control characters")
    return value


def _password(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    if len(value.encode()) > PASSWORD_MAX_BYTES:
        raise ValueError(f"must be at most {PASSWORD_MAX_BYTES} bytes in UTF-8")
    return value


Username = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_printable)]
Password = Annotated[str, Field(min_length=1), AfterValidator(_password)]


class _Request(BaseModel):
    # strict: "10" is not an amount; forbid: a misspelt field is an error, not a silent no-op.
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class AuthRequest(_Request):
    username: Username
    password: Password


class SendCoinRequest(_Request):
    to_user: Username = Field(alias="toUser")
    amount: int = Field(ge=1, le=MAX_AMOUNT)


class AuthResponse(BaseModel):
    token: str


class InventoryItem(BaseModel):
    type: str
    quantity: int = Field(ge=1)


class ReceivedEntry(BaseModel):
    from_user: str = Field(alias="fromUser")
    amount: int = Field(ge=1)


class SentEntry(BaseModel):
    to_user: str = Field(alias="toUser")
    amount: int = Field(ge=1)


class CoinHistory(BaseModel):
    received: list[ReceivedEntry]
    sent: list[SentEntry]


class InfoResponse(BaseModel):
    """The shape of GET /api/info; the body itself is built by one SQL statement."""

    model_config = ConfigDict(extra="forbid")

    coins: int = Field(ge=0)
    inventory: list[InventoryItem]
    coin_history: CoinHistory = Field(alias="coinHistory")
