"""Domain errors: what went wrong, in the domain's words. HTTP lives in shop/http/responses.py."""

from __future__ import annotations


class ShopError(Exception):
    """Base of every error the client is told about, with the message it is told."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InsufficientFundsError(ShopError):
    def __init__(self, balance: int, needed: int, what: str = "price") -> None:
        super().__init__(f"not enough coins: balance {balance}, {what} {needed}")
        self.balance = balance
        self.needed = needed


class SelfTransferError(ShopError):
    def __init__(self) -> None:
        super().__init__("cannot send coins to yourself")


class UnknownRecipientError(ShopError):
    def __init__(self, username: str) -> None:
        super().__init__(f"recipient {username!r} does not exist")


class UnknownItemError(ShopError):
    def __init__(self, item: str) -> None:
        super().__init__(f"unknown item {item!r}")


class UnauthorizedError(ShopError):
    """Missing, malformed, forged or expired token, or a token of an unknown employee."""


class InvalidCredentialsError(UnauthorizedError):
    def __init__(self) -> None:
        super().__init__("wrong username or password")


class LoginLockedError(UnauthorizedError):
    """Too many wrong passwords for one username: refused, without checking, for a while."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = max(1, retry_after)
        super().__init__(
            f"too many wrong passwords for this username; try again in {self.retry_after} seconds"
        )


class TransactionConflictError(ShopError):
    """Serialization retries ran out, or an account lock was not granted in time.

    Raised only where the write is known not to have happened.
    """

    def __init__(self) -> None:
        super().__init__("the operation conflicted with concurrent ones; nothing was changed")


class ServiceUnavailableError(ShopError):
    """No database connection could be had, so nothing was sent and nothing was changed."""

    def __init__(self) -> None:
        super().__init__("the database is unavailable; nothing was changed, try again")


class OutcomeUnknownError(ShopError):
    """The connection broke while the operation was in flight: it may or may not be applied.

    Saying "nothing was changed" here could be a lie, and a blind retry could apply it twice.
    """

    def __init__(self) -> None:
        super().__init__(
            "the database connection was lost while the operation ran; it may or may not"
            " have been applied: check /api/info before trying again"
        )
