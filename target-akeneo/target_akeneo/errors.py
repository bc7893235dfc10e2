"""The few exception classes whose messages users see (one line each, no secrets)."""

from __future__ import annotations


class TargetAkeneoError(Exception):
    """Base class: every instance carries one or more one-line user messages."""

    def __init__(self, *messages: str) -> None:
        super().__init__(messages[0] if messages else self.__class__.__name__)
        self.messages: tuple[str, ...] = messages or (self.__class__.__name__,)


class SettingsError(TargetAkeneoError):
    """A setting is missing or invalid; the message names the setting."""


class MappingError(TargetAkeneoError):
    """The mapping is invalid; one message per problem, each naming its place."""


class PimConnectionError(TargetAkeneoError):
    """The PIM could not be reached at all; the message names the URL."""


class PimUnavailableError(TargetAkeneoError):
    """The PIM stopped answering mid-run: retries ran out, the run stops before its STATE."""


class AuthenticationError(TargetAkeneoError):
    """The PIM refused the credentials; the message is Akeneo's, never the secret."""


class ApiError(TargetAkeneoError):
    """A request failed for good (non-retriable status, or retries exhausted)."""

    def __init__(self, message: str, status_code: int | None, *, exhausted: bool = False) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.exhausted = exhausted
        self.body: dict[str, object] = {}


class RejectedProductsError(TargetAkeneoError):
    """Raised at the end of a run with `fail_on_rejected` when products were rejected."""


class ValueShapeError(ValueError):
    """A source value cannot be shaped for its attribute (becomes a `mapping_error` line)."""
