"""Domain errors. Each carries its HTTP status and the message shown to the client."""

from __future__ import annotations


class ShopError(Exception):
    """Base of every error the client is told about; `status` is its HTTP status code."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def headers(self) -> dict[str, str] | None:
        """Response headers the client needs besides the message; usually none."""
        return None


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

    status = 401


class InvalidCredentialsError(UnauthorizedError):
    def __init__(self) -> None:
        super().__init__("wrong username or password")


class LoginLockedError(UnauthorizedError):
    """Too many wrong passwords for one username: refused, without checking, for a while.

    The contract documents only 400/401/500 for /api/auth, so this is a 401 (not a 429)
    whose Retry-After says when to try again.
    """

    def __init__(self, retry_after: int) -> None:
        self.retry_after = max(1, retry_after)
        super().__init__(
            f"too many wrong passwords for this username; try again in {self.retry_after} seconds"
        )

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class TransactionConflictError(ShopError):
    """Serialization retries ran out; nothing was applied. The contract has no 409, so 500."""

    status = 500

    def __init__(self) -> None:
        super().__init__("the operation conflicted with concurrent ones; nothing was changed")


class ServiceUnavailableError(ShopError):
    """The database could not be reached in time; nothing was changed."""

    status = 500

    def __init__(self) -> None:
        super().__init__("the database is unavailable; nothing was changed, try again")


class OutcomeUnknownError(ShopError):
    """The connection broke while the operation was in flight: it may or may not be applied.

    Saying "nothing was changed" here could be a lie, and a blind retry could apply it twice.
    """

    status = 500

    def __init__(self) -> None:
        super().__init__(
            "the database connection was lost while the operation ran; it may or may not"
            " have been applied: check /api/info before trying again"
        )
