"""From one record element to the record the stream emits, and the counts that say so.

Shared by the stream (one process) and by the processes of parallel.py, so both make the
same record of the same element: fields, the conversion check, the replication-key filter,
the running maximum of the key and the metadata columns.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lxml import etree

from tap_erp_xml.errors import ConversionFailure, ValueConversionError

SOURCE_FILE = "_sdc_source_file"
SOURCE_LINE = "_sdc_source_line"
MODIFIED_AT = "_sdc_modified_at"
METADATA_SCHEMA: dict[str, Any] = {
    SOURCE_FILE: {"type": ["string"]},
    SOURCE_LINE: {"type": ["integer", "null"]},
    MODIFIED_AT: {"type": ["string", "null"], "format": "date-time"},
}

Extract = Callable[[etree._Element], dict[str, Any]]


@dataclass
class SyncCounts:
    """What the end-of-stream log line reports, so nothing is dropped silently."""

    emitted: int = 0
    skipped_invalid: int = 0
    filtered: int = 0
    files_read: int = 0
    files_unchanged: int = 0
    files_failed: int = 0
    files_without_records: int = 0


@dataclass(frozen=True)
class RecordRules:
    """How a stream turns elements into records, the same for every file."""

    extract: Extract
    key: str | None
    keep: Callable[[Any], bool] | None
    fail_on_invalid: bool
    logger: logging.Logger


class RecordBuilder:
    """Makes the records of one document; ``top`` is the largest replication value seen."""

    def __init__(
        self, rules: RecordRules, name: str, modified: str | None, counts: SyncCounts
    ) -> None:
        self._rules = rules
        self._name = name
        self._modified = modified
        self.counts = counts
        self.top: Any = None

    def build(self, elem: etree._Element) -> dict[str, Any] | None:
        """The record of ``elem``, or ``None`` when it is skipped or filtered (and counted).

        Raises ``ValueConversionError`` (``file:line: field ...``) when a value does not
        convert and the stream fails on invalid values.
        """
        rules = self._rules
        try:
            record = rules.extract(elem)
        except ConversionFailure as exc:
            message = f"{self._name}:{elem.sourceline}: {exc}"
            if rules.fail_on_invalid:
                raise ValueConversionError(message) from None
            self.counts.skipped_invalid += 1
            rules.logger.warning("Skipped record: %s", message)
            return None
        key = rules.key
        if key:
            value = record.get(key)
            if rules.keep is not None and not rules.keep(value):
                self.counts.filtered += 1
                return None
            if value is not None and (self.top is None or value > self.top):
                self.top = value
        record[SOURCE_FILE] = self._name
        record[SOURCE_LINE] = elem.sourceline
        record[MODIFIED_AT] = self._modified
        self.counts.emitted += 1
        return record


def larger(a: Any, b: Any) -> Any:
    """The larger of two replication values, ``None`` meaning 'none seen'."""
    if a is None:
        return b
    if b is None:
        return a
    return b if b > a else a
