"""Exception classes: startup errors shown by the CLI, and API errors turned into HTTP answers."""

from __future__ import annotations

from typing import Any

DOC_BASE = "http://api.akeneo.com/api-reference.html"
FORMAT_HINT = " Check the expected format on the API documentation."


class SandboxError(Exception):
    """A one-line startup problem (settings, catalog, database) reported by the CLI."""


class SettingsError(SandboxError):
    """A command-line setting has an invalid value."""


class CatalogError(SandboxError):
    """The catalog file cannot be read or does not follow Akeneo's standard format."""


class ApiError(Exception):
    """An HTTP error answer with Akeneo's body shape `{"code": N, "message": ...}`."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        doc_anchor: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors
        self.doc_anchor = doc_anchor
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        """The JSON body the real server sends for this error."""
        body: dict[str, Any] = {"code": self.status, "message": self.message}
        if self.errors is not None:
            body["errors"] = self.errors
        if self.doc_anchor is not None:
            body["_links"] = {"documentation": {"href": f"{DOC_BASE}#{self.doc_anchor}"}}
        return body


def format_error(message: str, doc_anchor: str) -> ApiError:
    """A 422 from Akeneo's updater: wrong format or unknown reference, with a documentation link."""
    return ApiError(422, message + FORMAT_HINT, doc_anchor=doc_anchor)


def url_mismatch(label: str, given: object, in_url: str) -> ApiError:
    """A 422 for a body whose identifier, uuid or code differs from the one in the URL."""
    return ApiError(
        422,
        f'The {label} "{given}" provided in the request body must match '
        f'the {label} "{in_url}" provided in the url.',
    )


def validation_failed(errors: list[dict[str, Any]]) -> ApiError:
    """A 422 from Akeneo's validator: constraint violations listed in `errors`."""
    return ApiError(422, "Validation failed.", errors=errors)


def php_type(value: object) -> str:
    """PHP's gettype() name of a JSON value, as used in Akeneo's messages."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "string"
    return "array"


def expects(prop: str, what: str, value: object) -> str:
    """Akeneo's message for data of the wrong type, e.g. `expects an array as data`."""
    return f'Property "{prop}" expects {what} as data, "{php_type(value)}" given.'
