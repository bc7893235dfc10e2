"""The conversions the generated extractor does not write inline: booleans' words, dates.

Integers and numbers are converted inline (``int``, ``float``; see fields.py), booleans
through the table below; dates and date-times through a memo of their parser, built once
per field. Each raises ValueError or KeyError on a value that does not convert.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from tap_erp_xml.settings import FieldSpec

Converter = Callable[[str], Any]

TRUE_WORDS = frozenset({"y", "yes", "j", "ja", "true", "t", "1", "oui", "o", "si", "sí", "on", "x"})
FALSE_WORDS = frozenset({"n", "no", "nein", "false", "f", "0", "non", "off", "-"})
_UTC = datetime.UTC


def boolean_table(spec: FieldSpec) -> dict[str, bool]:
    """Lower-case spelling -> truth value: the field's own words, else the usual ERP ones."""
    truth = dict.fromkeys(spec.true_values or TRUE_WORDS, True)
    truth.update(dict.fromkeys(spec.false_values or FALSE_WORDS, False))
    return truth


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


def as_utc(value: datetime.datetime) -> str:
    """Naive values are taken as UTC; aware ones are shifted so strings sort chronologically."""
    if value.tzinfo is None:
        return value.replace(tzinfo=_UTC).isoformat()
    return value.astimezone(_UTC).isoformat()


def date_converter(spec: FieldSpec, type_name: str) -> Memo:
    """``date`` -> ``2026-03-01``; ``date-time`` -> ISO 8601 in UTC; by ``format`` or ISO."""
    fmt, strptime = spec.format, datetime.datetime.strptime
    if type_name == "date":
        if fmt is None:
            return Memo(lambda text: datetime.date.fromisoformat(text).isoformat())
        return Memo(lambda text: strptime(text, fmt).date().isoformat())
    if fmt is None:
        return Memo(lambda text: as_utc(datetime.datetime.fromisoformat(text)))
    return Memo(lambda text: as_utc(strptime(text, fmt)))


def scalar_schema(type_name: str) -> dict[str, Any]:
    """JSON schema of a nullable scalar of the given declared type."""
    if type_name in {"date", "date-time"}:
        return {"type": ["string", "null"], "format": type_name}
    return {"type": [type_name, "null"]}
