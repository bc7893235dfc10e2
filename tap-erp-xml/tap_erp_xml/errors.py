"""The few exception classes users can meet; each renders as one line at the CLI edge."""

from __future__ import annotations


class TapErpXmlError(Exception):
    """Base of every user-facing error of the tap (one line, names what and where)."""


class ConfigError(TapErpXmlError):
    """A setting is missing, malformed or inconsistent; the message starts with its path."""


class SourceError(TapErpXmlError):
    """A file cannot be listed, opened or decompressed, or a pattern matches nothing."""


class XmlError(TapErpXmlError):
    """A file is not well-formed or is refused for safety: ``file:line:column: reason``."""


class ValueConversionError(TapErpXmlError):
    """A value cannot be converted to its declared type: ``file:line: field ...``."""


class ConversionFailure(ValueError):  # noqa: N818 - internal signal, not user-facing
    """Raised by converters; the stream adds file and line and re-raises as user error."""

    def __init__(self, field: str, raw: str, type_name: str, message: str | None = None) -> None:
        super().__init__(message or f'field "{field}": cannot convert "{raw}" to {type_name}')
        self.field = field
        self.raw = raw
        self.type_name = type_name


class PatternMismatch(ConversionFailure):
    """A field's text does not match its ``pattern``: an invalid value like any other."""

    def __init__(self, field: str, pattern: str, raw: str) -> None:
        message = f'field "{field}": "{raw}" does not match the pattern {pattern!r}'
        super().__init__(field, raw, "the pattern", message)
