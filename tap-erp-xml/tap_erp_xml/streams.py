"""The stream: lists its files, skips unchanged ones, parses records and keeps bookmarks.

Built on ``singer_sdk.Stream`` rather than ``contrib.filesystem.FileStream`` (see source.py):
one stream reads many files from several filesystems. Records go through the SDK's own
record loop (stream maps, flattening, selection, metrics); two bookmarks coexist in the
stream's state: ``files`` (file name -> modification time; a file whose mtime is ``<=``
its bookmark is not opened at all) and the SDK's ``replication_key_value``. Records whose
replication value is below the starting bookmark are dropped; equal values are emitted
again (at-least-once, as the SDK does). A STATE message follows each file read.
"""

from __future__ import annotations

import datetime
import itertools
import logging
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from singer_sdk.helpers.conform import TypeConformanceLevel

from tap_erp_xml.convert import as_utc
from tap_erp_xml.errors import (
    ConversionFailure,
    SourceError,
    TapErpXmlError,
    ValueConversionError,
    XmlError,
)
from tap_erp_xml.fields import Extract, compile_fields, field_schema
from tap_erp_xml.generic import conform, element_value, infer_schema, merge_schemas
from tap_erp_xml.reader import Element, RecordReader
from tap_erp_xml.sdk_compat import RecordLoopShortcuts
from tap_erp_xml.settings import StreamConfig, TapSettings
from tap_erp_xml.source import FileSource, SourceFile

if TYPE_CHECKING:
    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context

SOURCE_FILE = "_sdc_source_file"
SOURCE_LINE = "_sdc_source_line"
MODIFIED_AT = "_sdc_modified_at"
METADATA_SCHEMA: dict[str, Any] = {
    SOURCE_FILE: {"type": ["string"]},
    SOURCE_LINE: {"type": ["integer", "null"]},
    MODIFIED_AT: {"type": ["string", "null"], "format": "date-time"},
}


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


class ErpXmlStream(RecordLoopShortcuts):
    """One configured stream of record elements over one or more files."""

    # Converters already emit JSON-ready types, so the SDK's per-record coercion is skipped.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    def __init__(
        self, tap: Tap, definition: StreamConfig, settings: TapSettings, source: FileSource
    ) -> None:
        self.definition = definition
        self._settings = settings
        self._source = source
        self._states = tap.state_writer
        # The tap's writer queues RECORD lines (tap.py); what is queued goes out at the end.
        self._flush_output: Callable[[], None] = getattr(tap.message_writer, "flush", _nothing)
        self._reader = RecordReader(definition.record_path, definition.encoding)
        self._declared: dict[str, Any] | None = None
        self._extract: Extract = self._generic_record
        self.last_counts = SyncCounts()
        super().__init__(tap, name=definition.name)
        if definition.fields is not None:
            compiled = compile_fields(definition.fields)
            self._extract = compiled.extract
            properties = {spec.name: field_schema(spec) for spec in definition.fields}
            self._declared = {"type": "object", "properties": {**properties, **METADATA_SCHEMA}}
            self.logger.debug("Fields of '%s' compiled to:\n%s", self.name, compiled.source)
        self.primary_keys = list(definition.key_properties)
        self.replication_key = definition.replication_key

    def log(self, message: str, *args: Any, level: int = logging.INFO, **kwargs: Any) -> None:
        """Log, except the SDK's "unhandled error" line for a user error: the command
        reports that itself, as its one ERROR line."""
        if level < logging.ERROR or not isinstance(sys.exc_info()[1], TapErpXmlError):
            super().log(message, *args, level=level, **kwargs)

    def generate_child_contexts(
        self, record: dict[str, Any], context: Context | None
    ) -> Iterable[Context | None]:
        """No child streams: no context to build per record."""
        return ()

    @property
    def schema(self) -> dict[str, Any]:
        """Declared by ``fields``, else inferred by sampling records on first use."""
        if self._declared is None:
            self._declared = self._infer_schema()
        return self._declared

    def _infer_schema(self) -> dict[str, Any]:
        merged: dict[str, Any] | None = None
        seen = 0
        elements = (
            elem
            for source in self._source.list_files(self.definition.files)
            for name, stream in self._source.documents(source)
            for elem in self._reader.records(stream, name)
        )
        for elem in itertools.islice(elements, self._settings.infer_schema_sample_size):
            value = element_value(elem)
            sample = infer_schema(value if isinstance(value, dict) else {"#text": value})
            merged = sample if merged is None else merge_schemas(merged, sample)
            seen += 1
        elements.close()
        properties = {**(merged["properties"] if merged else {}), **METADATA_SCHEMA}
        self.logger.info("Inferred the schema of '%s' from %d sampled records", self.name, seen)
        return {"type": "object", "properties": properties}

    def _generic_record(self, elem: Element) -> dict[str, Any]:
        value = element_value(elem)
        if not isinstance(value, dict):
            value = {"#text": value}
        props = self.schema["properties"]
        return {k: conform(v, props[k]) if k in props else v for k, v in value.items()}

    def _record_filter(self, context: Context | None) -> Callable[[Any], bool] | None:
        """Predicate 'keep this replication value', or None when nothing is filtered."""
        start = self.get_starting_replication_key_value(context) if self.replication_key else None
        if start is None:
            return None
        kind = self.definition.replication_type
        if kind == "date-time":
            start = as_utc(datetime.datetime.fromisoformat(str(start)))
        elif kind == "date":
            start = str(start)[:10]
        elif kind in {"integer", "number"}:
            start = float(start)
        return lambda value: value is None or bool(value >= start)

    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        """Yield the records of every changed file, in file order then document order.

        RECORD lines still queued by the writer go out when the stream ends, error or not.
        """
        counts = self.last_counts = SyncCounts()
        keep = self._record_filter(context)
        bookmarks: dict[str, str] = self.stream_state.setdefault("files", {})
        try:
            for source in self._source.list_files(self.definition.files):
                if self._unchanged(source, bookmarks.get(source.name)):
                    counts.files_unchanged += 1
                    continue
                try:
                    yield from self._file_records(source, counts, keep, context)
                except (XmlError, SourceError) as exc:
                    if self._settings.on_malformed_file == "fail":
                        raise
                    counts.files_failed += 1
                    self.logger.warning("Skipped the rest of a broken file: %s", exc)
                    continue
                counts.files_read += 1
                if source.modified is not None:
                    bookmarks[source.name] = source.modified.isoformat()
                self._states.write_state(self.tap_state)
        finally:
            self._flush_output()
        self.logger.info(
            "Stream '%s': %d records emitted, %d skipped (invalid values), %d filtered "
            "(replication key), %d files read, %d files unchanged (not opened), %d files failed",
            self.name,
            counts.emitted,
            counts.skipped_invalid,
            counts.filtered,
            counts.files_read,
            counts.files_unchanged,
            counts.files_failed,
        )

    @staticmethod
    def _unchanged(source: SourceFile, bookmark: str | None) -> bool:
        """Not modified since it was last read completely (then it is not even opened)."""
        return (
            bookmark is not None
            and source.modified is not None
            and source.modified <= datetime.datetime.fromisoformat(bookmark)
        )

    def _file_records(
        self,
        source: SourceFile,
        counts: SyncCounts,
        keep: Callable[[Any], bool] | None,
        context: Context | None,
    ) -> Iterator[dict[str, Any]]:
        """The records of one file; its largest replication value is bookmarked at the end
        (also when the file breaks, for the records already emitted)."""
        extract, key = self._extract, self.replication_key
        modified = source.modified.isoformat() if source.modified else None
        skip_invalid = self._settings.on_invalid_value == "skip"
        top: Any = None
        try:
            for name, stream in self._source.documents(source):
                found = 0
                for elem in self._reader.records(stream, name):
                    found += 1
                    try:
                        record = extract(elem)
                    except ConversionFailure as exc:
                        message = f"{name}:{elem.sourceline}: {exc}"
                        if not skip_invalid:
                            raise ValueConversionError(message) from None
                        counts.skipped_invalid += 1
                        self.logger.warning("Skipped record: %s", message)
                        continue
                    if key:
                        value = record[key]
                        if keep is not None and not keep(value):
                            counts.filtered += 1
                            continue
                        if value is not None and (top is None or value > top):
                            top = value
                    record[SOURCE_FILE] = name
                    record[SOURCE_LINE] = elem.sourceline
                    record[MODIFIED_AT] = modified
                    counts.emitted += 1
                    yield record
                if not found:
                    counts.files_without_records += 1
                    self.logger.warning(
                        "%s: no element matches record_path %s (0 records)",
                        name,
                        self.definition.record_path.text,
                    )
        finally:
            if top is not None:
                self.bookmark(top, context)


def _nothing() -> None:
    pass
