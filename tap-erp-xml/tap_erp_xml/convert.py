"""Text-to-value converters by declared type; each is built once per field and raises ValueError."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from tap_erp_xml.config import FieldSpec

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


def _boolean_factory(true_values: tuple[str, ...], false_values: tuple[str, ...]) -> Converter:
    truth = dict.fromkeys(true_values or TRUE_WORDS, True)
    truth.update(dict.fromkeys(false_values or FALSE_WORDS, False))

    def boolean(text: str) -> bool:
        return truth[text.lower()]

    return boolean


def _memoized(convert: Converter, size: int = 4096) -> Converter:
    """Exports repeat the same dates endlessly and ``strptime`` costs ~10 us a call."""
    cache: dict[str, Any] = {}

    def cached(text: str) -> Any:
        try:
            return cache[text]
        except KeyError:
            value = convert(text)
            if len(cache) >= size:
                cache.clear()
            cache[text] = value
            return value

    return cached


def _date_factory(fmt: str | None) -> Converter:
    if fmt is None:
        return _memoized(lambda text: datetime.date.fromisoformat(text).isoformat())
    strptime = datetime.datetime.strptime
    return _memoized(lambda text: strptime(text, fmt).date().isoformat())


def as_utc(value: datetime.datetime) -> str:
    """Naive values are taken as UTC; aware ones are shifted so strings sort chronologically."""
    if value.tzinfo is None:
        return value.replace(tzinfo=_UTC).isoformat()
    return value.astimezone(_UTC).isoformat()


def _datetime_factory(fmt: str | None) -> Converter:
    if fmt is None:
        parse = datetime.datetime.fromisoformat
        return _memoized(lambda text: as_utc(parse(text)))
    strptime = datetime.datetime.strptime
    return _memoized(lambda text: as_utc(strptime(text, fmt)))


def scalar_converter(spec: FieldSpec, type_name: str) -> Converter | None:
    """Converter for one scalar type; ``None`` means keep the stripped text as it is."""
    if type_name == "string":
        return None
    if type_name == "integer":
        return _integer
    if type_name == "number":
        return _number_factory(spec.decimal_separator, spec.thousands_separator)
    if type_name == "boolean":
        return _boolean_factory(spec.true_values, spec.false_values)
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
