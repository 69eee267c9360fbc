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


class ForbiddenError(ShopError):
    """The caller is authenticated but holds none of the roles the operation needs."""

    def __init__(self, role: str) -> None:
        super().__init__(f"this needs the {role} role (or admin); nothing was changed")
        self.role = role


class UnknownEmployeeError(ShopError):
    def __init__(self, username: str) -> None:
        super().__init__(f"employee {username!r} does not exist; nothing was changed")


class UnknownRoleError(ShopError):
    def __init__(self, role: str) -> None:
        super().__init__(
            f"unknown role {role!r}: one of treasurer, operator, admin; nothing was changed"
        )


class LastAdminError(ShopError):
    def __init__(self) -> None:
        super().__init__(
            "the last admin cannot be removed: make another admin first; nothing was changed"
        )


class UnknownGrantError(ShopError):
    def __init__(self, grant_id: str) -> None:
        super().__init__(f"no grant {grant_id[:40]!r}")


class IdempotencyKeyRequiredError(ShopError):
    def __init__(self) -> None:
        super().__init__(
            "this write needs an Idempotency-Key header (1-255 printable ASCII characters,"
            " no spaces); nothing was changed"
        )


class UnauthorizedError(ShopError):
    """Missing, malformed, forged or expired token, or a token of an unknown employee."""


class InvalidCredentialsError(UnauthorizedError):
    def __init__(self) -> None:
        super().__init__("wrong username or password")


class LoginLockedError(UnauthorizedError):
    """Too many attempts for this name from this address (or from new addresses): refused,
    without checking the password, for `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = max(1, retry_after)
        super().__init__(
            f"too many login attempts for this username; try again in {self.retry_after} seconds"
        )


class NotInDirectoryError(UnauthorizedError):
    """EMPLOYEE_DIRECTORY is in use and does not list this new name."""

    def __init__(self) -> None:
        super().__init__("this username is not in the employee directory")


class InvalidUsernameError(ShopError):
    """A new name that breaks the rules of shop/auth/usernames.py."""


class LookalikeUsernameError(ShopError):
    def __init__(self) -> None:
        super().__init__("username looks like an existing employee's; choose another")


class LoginBusyError(ShopError):
    """No bcrypt thread became free in time; nothing was changed. 500: the contract has
    no 429 or 503."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = max(1, retry_after)
        super().__init__("too many logins at once; nothing was changed, try again shortly")


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


class InvalidIdempotencyKeyError(ShopError):
    def __init__(self) -> None:
        super().__init__(
            "Idempotency-Key must be given once, as 1-255 printable ASCII characters without"
            " spaces; nothing was changed"
        )


class IdempotencyKeyInFlightError(ShopError):
    """Another request with this key is still being processed; this one did nothing."""

    def __init__(self) -> None:
        super().__init__(
            "a request with this Idempotency-Key is still in progress; this one changed"
            " nothing: repeat it once that one has been answered"
        )


class IdempotencyKeyReusedError(ShopError):
    """The key was used before for another request; this one did nothing."""

    def __init__(self) -> None:
        super().__init__(
            "this Idempotency-Key was used for a different request; nothing was changed:"
            " use a new key for a new request"
        )


class RequestTimeoutError(ShopError):
    """The client did not send its request body in time; nothing was read, nothing changed."""

    def __init__(self, seconds: float) -> None:
        super().__init__(
            f"request body not received in time (within {seconds:g} s and a minimum rate);"
            " nothing was changed"
        )


class ClientAbortedError(ShopError):
    """The client closed or reset its connection before its request was read or answered.

    Its own status (499, as nginx counts it) keeps it out of the server-error figures."""

    def __init__(self) -> None:
        super().__init__("the client closed the connection before its request was answered")
