"""Request and response bodies, named exactly as in the OpenAPI contract."""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Annotated, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    model_validator,
)

MAX_AMOUNT = 2**31 - 1
"""Largest amount a transfer may name: the largest 32-bit integer, far inside the bigint balance
column (migration 0007), so no accepted amount can overflow a balance."""

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


MESSAGE_MAX_LENGTH = 200

Message = Annotated[str, Field(max_length=MESSAGE_MAX_LENGTH), AfterValidator(_printable)]


class SendCoinRequest(_Request):
    to_user: Username = Field(alias="toUser")
    amount: int = Field(ge=1, le=MAX_AMOUNT)
    message: Message | None = None
    """Seen by the sender and the receiver only (/api/history); "" is no message."""


class AuthResponse(BaseModel):
    token: str


class CatalogItem(BaseModel):
    name: str
    price: int = Field(ge=1)


class ItemsResponse(BaseModel):
    """GET /api/items: the catalog, in the order shop/catalog.py lists it."""

    items: list[CatalogItem]


HISTORY_LIMIT_DEFAULT = 20
HISTORY_LIMIT_MAX = 100

_CURSOR_VERSION = "h1"
_CURSOR_TEXT = re.compile(r"h1:([1-9][0-9]{0,18})")
_CURSOR_CHARS = re.compile(r"[A-Za-z0-9_-]{1,64}")
_SEQ_MAX = 2**63 - 1
_BAD_CURSOR = "not a cursor this API gave out; pass the `next` of the previous page"


def encode_cursor(seq: int) -> str:
    """The opaque `next` of a page: base64url (unpadded) of a versioned position."""
    return base64.urlsafe_b64encode(f"{_CURSOR_VERSION}:{seq}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The position `encode_cursor` wrote, or ValueError for anything it could not have written.

    Only the canonical spelling is accepted (re-encoding must give the same text), so one
    position has one cursor. A cursor is not secret: it only bounds the caller's own rows.
    """
    if not _CURSOR_CHARS.fullmatch(cursor):
        raise ValueError(_BAD_CURSOR)
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError):
        raise ValueError(_BAD_CURSOR) from None
    found = _CURSOR_TEXT.fullmatch(text)
    if found is None or int(found[1]) > _SEQ_MAX or encode_cursor(int(found[1])) != cursor:
        raise ValueError(_BAD_CURSOR)
    return int(found[1])


def _given_once(value: object) -> object:
    if isinstance(value, list):
        raise ValueError("must be given at most once")
    return value


def _limit(value: object) -> int:
    message = f"must be a whole number from 1 to {HISTORY_LIMIT_MAX}"
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 9:
        number = int(value)
    else:
        raise ValueError(message)
    if not 1 <= number <= HISTORY_LIMIT_MAX:
        raise ValueError(message)
    return number


def _cursor(value: object) -> int:
    if not isinstance(value, str):
        raise ValueError(_BAD_CURSOR)
    return decode_cursor(value)


class _Query(BaseModel):
    """A query string, held to the strictness of the request bodies: unknown names are refused,
    and so is a name given twice, rather than one of its values silently winning."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @classmethod
    def from_query(cls, names_and_values: Iterable[tuple[str, str]]) -> Self:
        """Validate `request.query.items()`; a repeated name arrives as a list and is refused."""
        grouped: dict[str, str | list[str]] = {}
        for name, value in names_and_values:
            if name in grouped:
                previous = grouped[name]
                grouped[name] = [*(previous if isinstance(previous, list) else [previous]), value]
            else:
                grouped[name] = value
        return cls.model_validate(grouped)


class ItemsQuery(_Query):
    """GET /api/items takes no parameters."""


class HistoryQuery(_Query):
    limit: Annotated[int, BeforeValidator(_limit), BeforeValidator(_given_once)] = (
        HISTORY_LIMIT_DEFAULT
    )
    before: Annotated[int | None, BeforeValidator(_cursor), BeforeValidator(_given_once)] = None


def _utc_seconds(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class HistoryEntry(BaseModel):
    """One ledger row as its employee sees it; `id` names the row ("transfer-7", "purchase-3",
    "grant-2")."""

    id: str
    kind: Literal["sent", "received", "purchase", "grant"]
    counterparty: str | None
    item: str | None
    amount: int = Field(ge=1)
    at: Annotated[datetime, PlainSerializer(_utc_seconds, return_type=str)]
    message: str | None = None
    """A transfer's message, shown to its two parties only; None for none or a purchase."""
    reason: str | None = None
    """Why coins were granted (a grant's); None for the other kinds."""


class HistoryResponse(BaseModel):
    """GET /api/history: a page, newest first, and the cursor of the next one (None: the end)."""

    entries: list[HistoryEntry]
    next: str | None


OperatorRole = Literal["treasurer", "operator", "admin"]


class MeResponse(BaseModel):
    """GET /api/me: who the caller is and which roles they hold."""

    username: str
    roles: list[OperatorRole]


class RoleRequest(_Request):
    """POST /api/admin/roles."""

    username: Username
    role: OperatorRole


class RoleHolding(BaseModel):
    username: str
    role: OperatorRole


class RolesResponse(BaseModel):
    """GET /api/admin/roles: every role held, by employee name."""

    roles: list[RoleHolding]


def _distinct(names: list[str]) -> list[str]:
    if len(set(names)) != len(names):
        raise ValueError("must name each employee once")
    return names


Reason = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_printable)]


class GrantRequest(_Request):
    """POST /api/admin/grants: `toUsers` (all or nothing) or `toAll`, never both."""

    amount: int = Field(ge=1, le=1_000_000)
    reason: Reason
    to_users: (
        Annotated[list[Username], Field(min_length=1, max_length=1000), AfterValidator(_distinct)]
        | None
    ) = Field(default=None, alias="toUsers")
    to_all: Literal[True] | None = Field(default=None, alias="toAll")

    @model_validator(mode="after")
    def _one_audience(self) -> Self:
        if (self.to_users is None) == (self.to_all is None):
            raise ValueError("give either toUsers or toAll: true")
        return self


class GrantResponse(BaseModel):
    """A grant and its progress (POST /api/admin/grants, GET /api/admin/grants/{id})."""

    id: str
    amount: int
    reason: str
    status: Literal["running", "done"]
    recipients: int
    granted: int
