"""Text-to-value converters by declared type; each is built once per field and raises ValueError."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from tap_erp_xml.settings import FieldSpec

Converter = Callable[[str], Any]

TRUE_WORDS = frozenset({"y", "yes", "j", "ja", "true", "t", "1", "oui", "o", "si", "sí", "on", "x"})
FALSE_WORDS = frozenset({"n", "no", "nein", "false", "f", "0", "non", "off", "-"})
_UTC = datetime.UTC


def _integer(text: str) -> int:
    return int(text)


def _number_factory(decimal_sep: str, thousands: str | None) -> Converter:
    if decimal_sep == "." and thousands is None:
        return float
    drop = thousands or ""

    def number(text: str) -> float:
        if drop:
            text = text.replace(drop, "")
        return float(text.replace(decimal_sep, "."))

    return number


def boolean_table(spec: FieldSpec) -> dict[str, bool]:
    """Lower-case spelling -> truth value: the field's own words, else the usual ERP ones."""
    truth = dict.fromkeys(spec.true_values or TRUE_WORDS, True)
    truth.update(dict.fromkeys(spec.false_values or FALSE_WORDS, False))
    return truth


def _boolean_factory(spec: FieldSpec) -> Converter:
    truth = boolean_table(spec)

    def boolean(text: str) -> bool:
        return truth[text.lower()]

    return boolean


class Memo:
    """A converter remembering its results: exports repeat the same dates endlessly and
    ``strptime`` costs ~10 us a call. The generated extractor (fields.py) reads ``cache``
    directly and calls the memo only on a miss."""

    __slots__ = ("_convert", "_size", "cache")

    def __init__(self, convert: Converter, size: int = 4096) -> None:
        self._convert = convert
        self._size = size
        self.cache: dict[str, Any] = {}

    def __call__(self, text: str) -> Any:
        try:
            return self.cache[text]
        except KeyError:
            value = self._convert(text)
            if len(self.cache) >= self._size:
                self.cache.clear()
            self.cache[text] = value
            return value


def _date_factory(fmt: str | None) -> Converter:
    if fmt is None:
        return Memo(lambda text: datetime.date.fromisoformat(text).isoformat())
    strptime = datetime.datetime.strptime
    return Memo(lambda text: strptime(text, fmt).date().isoformat())


def as_utc(value: datetime.datetime) -> str:
    """Naive values are taken as UTC; aware ones are shifted so strings sort chronologically."""
    if value.tzinfo is None:
        return value.replace(tzinfo=_UTC).isoformat()
    return value.astimezone(_UTC).isoformat()


def _datetime_factory(fmt: str | None) -> Converter:
    if fmt is None:
        parse = datetime.datetime.fromisoformat
        return Memo(lambda text: as_utc(parse(text)))
    strptime = datetime.datetime.strptime
    return Memo(lambda text: as_utc(strptime(text, fmt)))


def scalar_converter(spec: FieldSpec, type_name: str) -> Converter | None:
    """Converter for one scalar type; ``None`` means keep the stripped text as it is."""
    if type_name == "string":
        return None
    if type_name == "integer":
        return _integer
    if type_name == "number":
        return _number_factory(spec.decimal_separator, spec.thousands_separator)
    if type_name == "boolean":
        return _boolean_factory(spec)
    if type_name == "date":
        return _date_factory(spec.format)
    if type_name == "date-time":
        return _datetime_factory(spec.format)
    raise AssertionError(type_name)


def scalar_schema(type_name: str) -> dict[str, Any]:
    """JSON schema of a nullable scalar of the given declared type."""
    if type_name in {"date", "date-time"}:
        return {"type": ["string", "null"], "format": type_name}
    return {"type": [type_name, "null"]}
