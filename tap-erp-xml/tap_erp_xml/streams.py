"""The stream: lists its files, skips unchanged ones, parses records and keeps bookmarks.

Built on ``singer_sdk.Stream`` rather than ``contrib.filesystem.FileStream`` (see source.py):
one stream reads many files from several filesystems. Records go through the SDK's own
record loop (stream maps, flattening, selection, metrics); two bookmarks coexist in the
stream's state: ``files`` (file name -> modification time and the fingerprint of the
definition that read it; a file whose mtime is ``<=`` its bookmark, read with the current
definition, is not opened at all) and the SDK's ``replication_key_value``. Records whose
replication value is below the starting bookmark are dropped; equal values are emitted
again (at-least-once, as the SDK does). A STATE message follows each file read (for a
``full_export`` stream, the export as a whole, after its ACTIVATE_VERSION).
"""

from __future__ import annotations

import datetime
import functools
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
from tap_erp_xml.fields import Extract, MissingFields, compile_fields, field_schema
from tap_erp_xml.generic import conform, element_value, infer_schema, merge_schemas
from tap_erp_xml.reader import Element, RecordReader
from tap_erp_xml.sdk_compat import RecordLoopShortcuts
from tap_erp_xml.settings import StreamConfig, TapSettings, fingerprint
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
        # The version of a full_export stream's records: the tap's start time in ms.
        self._version = tap.initialized_at
        # The tap's writer queues RECORD lines (tap.py); what is queued goes out at the end.
        self._flush_output: Callable[[], None] = getattr(tap.message_writer, "flush", _nothing)
        shapes = definition.shapes
        self._reader = RecordReader([shape.record_path for shape in shapes], definition.encoding)
        self._declared: dict[str, Any] | None = None
        # One extraction function per shape (record path), in the reader's order.
        self._extracts: tuple[Extract, ...] = (self._generic_record,) * len(shapes)
        self._missing = MissingFields(definition.fields or ())
        self.last_counts = SyncCounts()
        super().__init__(tap, name=definition.name)
        if definition.fields is not None:
            compiled = compile_fields(definition.fields)
            self._extracts = (
                compiled.extract,
                *(compile_fields(shape.fields or ()).extract for shape in shapes[1:]),
            )
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

    @property
    def emit_activate_version_messages(self) -> bool:
        """Never the SDK's way: it emits ACTIVATE_VERSION before the records, which a target
        would read as "every product missing". ``full_export`` streams emit it after a
        complete export instead (``_activate``)."""
        return False

    @functools.cached_property
    def definition_fingerprint(self) -> str:
        """What a file's records were made with: the stream definition and the SDK settings
        reshaping its records (stream maps, flattening, deselected properties)."""
        config = self.config
        maps = config.get("stream_maps") or {}
        flattening = [config.get("flattening_enabled"), config.get("flattening_max_depth")]
        shaping = {
            "definition": self.definition.fingerprint,
            "stream_maps": [maps.get(self.name), maps.get("__else__")],
            "stream_map_config": config.get("stream_map_config"),
            "flattening": flattening,
            "deselected": sorted(".".join(b) for b, on in self.mask.items() if not on),
            # Without fields, the sampled schema decides how values are conformed.
            "sampled": None if self.definition.fields else self._settings.infer_schema_sample_size,
        }
        return fingerprint(shaping)

    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        """Yield the records of every changed file, in file order then document order.

        RECORD lines still queued by the writer go out when the stream ends, error or not.
        """
        counts = self.last_counts = SyncCounts()
        full = self.definition.full_export
        keep = None if full else self._record_filter(context)
        bookmarks: dict[str, Any] = self.stream_state.setdefault("files", {})
        try:
            listed = self._source.list_files(self.definition.files)
            due = self._due(listed, bookmarks)
            if full and due:
                # One export: all of it or nothing.
                due = {source.name: due.get(source.name, False) for source in listed}
                self.set_stream_version(self._version)
            for source in listed:
                if source.name not in due:
                    counts.files_unchanged += 1
                    continue
                without_records = counts.files_without_records
                try:
                    # Read again for a new definition: every record, whatever the bookmark.
                    file_keep = None if due[source.name] else keep
                    yield from self._file_records(source, counts, file_keep, context)
                except (XmlError, SourceError) as exc:
                    if self._settings.on_malformed_file == "fail":
                        raise
                    counts.files_failed += 1
                    self.logger.warning("Skipped the rest of a broken file: %s", exc)
                    continue
                counts.files_read += 1
                if source.modified is not None and counts.files_without_records == without_records:
                    bookmarks[source.name] = {
                        "modified": source.modified.isoformat(),
                        "definition": self.definition_fingerprint,
                    }
                if not full:
                    self._states.write_state(self.tap_state)
            if full:
                self._activate(counts, read=bool(due))
                self._states.write_state(self.tap_state)
        finally:
            self._flush_output()
        self.logger.info(
            "Stream '%s': %d records emitted, %d skipped (invalid values), %d filtered "
            "(replication key), %d files read, %d files unchanged (not opened), %d files failed, "
            "%d files without a matching element (not bookmarked)",
            self.name,
            counts.emitted,
            counts.skipped_invalid,
            counts.filtered,
            counts.files_read,
            counts.files_unchanged,
            counts.files_failed,
            counts.files_without_records,
        )

    def _due(self, listed: list[SourceFile], bookmarks: dict[str, Any]) -> dict[str, bool]:
        """The files to read (new, modified, or bookmarked by another definition), each with
        whether it is read for a new definition (logged once, saying why)."""
        current = self.definition_fingerprint
        due: dict[str, bool] = {}
        redefined = 0
        for source in listed:
            bookmark = bookmarks.get(source.name)
            if bookmark is None or source.modified is None:
                due[source.name] = False
                continue
            # A bare mtime string is a bookmark from before fingerprints: made with unknown fields.
            made_with = bookmark.get("definition") if isinstance(bookmark, dict) else None
            modified = bookmark.get("modified") if isinstance(bookmark, dict) else bookmark
            if made_with != current:
                redefined += 1
                due[source.name] = True
            elif source.modified > datetime.datetime.fromisoformat(str(modified)):
                due[source.name] = False
        if redefined:
            self.logger.info(
                "Stream '%s': %d bookmarked files were read with another stream definition "
                "(record_path, namespaces, fields, encoding or stream maps changed since): "
                "reading them again, every record whatever the replication bookmark",
                self.name,
                redefined,
            )
        return due

    def _activate(self, counts: SyncCounts, *, read: bool) -> None:
        """ACTIVATE_VERSION after a complete export, never after a partial one or none.

        Without a file read the target received nothing, not an empty export: no message.
        """
        incomplete = counts.files_failed + counts.skipped_invalid + counts.files_without_records
        if not read:
            self.logger.info(
                "Stream '%s': full_export: no file changed, so no export was read and no "
                "ACTIVATE_VERSION is emitted",
                self.name,
            )
        elif incomplete:
            self.logger.warning(
                "Stream '%s': full_export: no ACTIVATE_VERSION, the export was not read "
                "completely (%d files failed, %d records skipped, %d files without a "
                "matching element)",
                self.name,
                counts.files_failed,
                counts.skipped_invalid,
                counts.files_without_records,
            )
        else:
            self.write_activate_version(self._version)
            self.logger.info(
                "Stream '%s': full_export: ACTIVATE_VERSION %d after %d records from %d files",
                self.name,
                self._version,
                counts.emitted,
                counts.files_read,
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
        extracts, key = self._extracts, self.replication_key
        modified = source.modified.isoformat() if source.modified else None
        skip_invalid = self._settings.on_invalid_value == "skip"
        top: Any = None
        try:
            missing = self._missing
            for name, stream in self._source.documents(source):
                found = 0
                missing.start()
                skipped: list[_Invalid] = []
                for shape, elem in self._reader.matches(stream, name):
                    found += 1
                    try:
                        record = extracts[shape](elem)
                    except ConversionFailure as exc:
                        invalid = _Invalid(found, elem.sourceline, self._keys(elem), str(exc))
                        if not skip_invalid:
                            message = self._located(source, name, [invalid])[0]
                            raise ValueConversionError(message) from None
                        counts.skipped_invalid += 1
                        skipped.append(invalid)
                        continue
                    if missing.missing:
                        missing.saw(record)
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
                for message in self._located(source, name, skipped):
                    self.logger.warning("Skipped record: %s", message)
                if found:
                    for warning in missing.report(name):
                        self.logger.warning(warning)
                else:
                    counts.files_without_records += 1
                    self.logger.warning(
                        "%s: no element matched record_path '%s'; the root element is %s",
                        name,
                        "' or '".join(shape.record_path.text for shape in self.definition.shapes),
                        self._reader.last_root,
                    )
        finally:
            if top is not None:
                self.bookmark(top, context)

    @functools.cached_property
    def _key_extract(self) -> Extract | None:
        """Reads only the key fields; compiled on the first conversion error."""
        names = self.definition.key_properties
        if not names or self.definition.fields is None:
            return None
        return compile_fields(tuple(f for f in self.definition.fields if f.name in names)).extract

    def _keys(self, elem: Element) -> str:
        """``sku=SKU-7`` of a record that failed (slow path: only on a conversion error)."""
        names = self.definition.key_properties
        if self._key_extract is None:
            return ""
        try:
            values = self._key_extract(elem)
        except ConversionFailure:
            return ", ".join(f"{name}=?" for name in names)
        return ", ".join(f"{name}={values.get(name)}" for name in names)

    def _located(self, source: SourceFile, name: str, invalid: list[_Invalid]) -> list[str]:
        """``file:line:column (record n, key=value): reason`` for each invalid record.

        The columns come from a second pass over the document (reader.positions), one for
        all the records of a document; where it cannot place a record, the line stays.
        """
        if not invalid:
            return []
        places: dict[int, tuple[int, int]] = {}
        documents = self._source.documents(source)
        try:
            for document, stream in documents:
                if document == name:
                    places = self._reader.positions(stream, [i.ordinal for i in invalid])
                    break
        except (TapErpXmlError, OSError):
            pass  # the file cannot be opened again: lines only
        finally:
            documents.close()
        messages = []
        for item in invalid:
            line, column = places.get(item.ordinal, (item.line, None))
            if line != item.line:  # not the element lxml saw: trust lxml's line alone
                line, column = item.line, None
            where = f"{name}:{line}" if column is None else f"{name}:{line}:{column}"
            record = ", ".join(filter(None, [f"record {item.ordinal}", item.keys]))
            messages.append(f"{where} ({record}): {item.reason}")
        return messages


@dataclass(frozen=True)
class _Invalid:
    """A record whose value did not convert, until its position is known."""

    ordinal: int
    line: int | None
    keys: str
    reason: str


def _nothing() -> None:
    pass
