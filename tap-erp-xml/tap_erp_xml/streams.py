"""The stream: lists its files, skips unchanged ones, parses records and keeps bookmarks.

Built on ``singer_sdk.Stream`` rather than ``contrib.filesystem.FileStream`` (see source.py):
one stream reads many files from several filesystems, and two bookmarks coexist in the
stream's own state: ``files`` (file name -> modification time; a file whose mtime is ``<=``
its bookmark is not opened at all) and the SDK's ``replication_key_value``. Records whose
replication value is below the starting bookmark are dropped; equal values are emitted
again (at-least-once, as the SDK does).
"""

from __future__ import annotations

import datetime
import itertools
import os
import sys
import zlib
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from singer_sdk import Stream, metrics
from singer_sdk.helpers._util import utc_now
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.mapper import SameRecordTransform
from singer_sdk.singerlib.encoding.simple import RecordMessage

from tap_erp_xml.codegen import compile_record
from tap_erp_xml.config import FieldSpec, StreamConfig, TapSettings
from tap_erp_xml.convert import as_utc
from tap_erp_xml.errors import SourceError, XmlError
from tap_erp_xml.fields import Element, FieldCompiler, field_schema
from tap_erp_xml.generic import conform, element_value, infer_schema, merge_schemas
from tap_erp_xml.output import BufferedMsgSpecWriter, RecordWriter, line_writer
from tap_erp_xml.parallel import FileJob, Progress, available_cpus, read_file
from tap_erp_xml.paths import parse_record_path
from tap_erp_xml.reader import RecordReader
from tap_erp_xml.records import (
    METADATA_SCHEMA,
    RecordBuilder,
    RecordRules,
    SyncCounts,
    larger,
)
from tap_erp_xml.source import FileSource, SourceFile

if TYPE_CHECKING:
    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context

# Records counted into the SDK's metrics counter in steps, not one call per record.
COUNTER_STEP = 1000


@dataclass
class _DirectWrite:
    """Set while the lean sync runs: where records go without the SDK's loop."""

    write: RecordWriter
    counter: metrics.Counter


class ErpXmlStream(Stream):
    """One configured stream of record elements over one or more files."""

    # Converters already emit JSON-ready types, so the SDK's per-record coercion is skipped.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    def __init__(
        self, tap: Tap, config: StreamConfig, settings: TapSettings, source: FileSource
    ) -> None:
        self._cfg = config
        self._settings = settings
        self._source = source
        self._reader = RecordReader(
            parse_record_path(
                config.record_path, config.namespaces, f"{config.setting}.record_path"
            ),
            config.encoding,
        )
        self._extract: Callable[[Element], dict[str, Any]] | None = None
        schema: dict[str, Any] | None = None
        if config.fields is not None:
            self._extract = compile_record(config.fields, config.namespaces) or FieldCompiler(
                config.namespaces
            ).record(config.fields)
            schema = _declared_schema(config.fields)
        self._files: list[SourceFile] | None = None
        self._all_selected: bool | None = None
        self.last_counts = SyncCounts()
        self._max_value: Any = None
        self._direct: _DirectWrite | None = None
        super().__init__(tap, schema=schema, name=config.name)
        self.primary_keys = list(config.key_properties)
        self.replication_key = config.replication_key

    @property
    def schema(self) -> dict[str, Any]:
        """Declared by ``fields``, else inferred by sampling records on first use."""
        if self._schema is None:
            self._schema = self._infer_schema()
        return self._schema

    def _list_files(self) -> list[SourceFile]:
        if self._files is None:
            self._files = self._source.list_files(self._cfg.files)
        return self._files

    def _elements(self) -> Generator[Element, None, None]:
        for source in self._list_files():
            for name, stream in self._source.documents(source):
                yield from self._reader.records(stream, name)

    def _infer_schema(self) -> dict[str, Any]:
        merged: dict[str, Any] | None = None
        seen = 0
        samples = self._elements()
        try:
            for elem in itertools.islice(samples, self._settings.infer_schema_sample_size):
                value = element_value(elem)
                sample = infer_schema(value if isinstance(value, dict) else {"#text": value})
                merged = sample if merged is None else merge_schemas(merged, sample)
                seen += 1
        finally:
            samples.close()
        properties = dict(merged["properties"]) if merged else {}
        properties.update(METADATA_SCHEMA)
        self.logger.info("Inferred the schema of '%s' from %d sampled records", self.name, seen)
        return {"type": "object", "properties": properties}

    def _record_filter(self, context: Context | None) -> Callable[[Any], bool] | None:
        """Predicate 'keep this replication value', or None when nothing is filtered."""
        key = self.replication_key
        if not key:
            return None
        start = self.get_starting_replication_key_value(context)
        if start is None:
            return None
        spec = next((f for f in self._cfg.fields or () if f.name == key), None)
        kind = spec.type if spec is not None else "string"
        if kind == "date-time":
            start = as_utc(datetime.datetime.fromisoformat(str(start)))
        elif kind == "date":
            start = str(start)[:10]
        elif kind in {"integer", "number"}:
            start = float(start)
        return lambda value: value is None or bool(value >= start)

    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        """Yield the records of every changed file, in file order then document order.

        RECORD lines still queued by the writer (see output.py) are written when the
        stream ends, error or not.
        """
        try:
            yield from self._changed_files_records(context)
        finally:
            writer = self._tap.message_writer
            if isinstance(writer, BufferedMsgSpecWriter):
                writer.flush_records()

    def _changed_files_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        counts = self.last_counts = SyncCounts()
        keep = self._record_filter(context)
        bookmarks: dict[str, str] = self.stream_state.setdefault("files", {})
        for source in self._source.list_files(self._cfg.files):
            previous = bookmarks.get(source.name)
            if (
                previous is not None
                and source.modified is not None
                and source.modified <= datetime.datetime.fromisoformat(previous)
            ):
                counts.files_unchanged += 1
                continue
            try:
                processes = self._processes_for(source)
                if processes > 1 and self._direct is not None:
                    self._read_file_in_parallel(source, counts, keep, processes, self._direct)
                else:
                    yield from self._read_file(source, counts, keep)
            except (XmlError, SourceError) as exc:
                self._flush_bookmark(context)
                if self._settings.on_malformed_file == "fail":
                    raise
                counts.files_failed += 1
                self.logger.warning("Skipped the rest of a broken file: %s", exc)
                continue
            counts.files_read += 1
            self._flush_bookmark(context)
            if source.modified is not None:
                bookmarks[source.name] = source.modified.isoformat()
                self.state_manager.is_flushed = False
            self._write_state_message()
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

    def _rules(self, keep: Callable[[Any], bool] | None) -> RecordRules:
        return RecordRules(
            extract=self._extract or self._generic_record,
            key=self.replication_key,
            keep=keep,
            fail_on_invalid=self._settings.on_invalid_value == "fail",
            logger=self.logger,
        )

    def _read_file(
        self, source: SourceFile, counts: SyncCounts, keep: Callable[[Any], bool] | None
    ) -> Iterable[dict[str, Any]]:
        rules = self._rules(keep)
        modified = source.modified.isoformat() if source.modified else None
        for name, stream in self._source.documents(source):
            builder = RecordBuilder(rules, name, modified, counts)
            found = 0
            try:
                for elem in self._document_elements(stream, name):
                    found += 1
                    record = builder.build(elem)
                    if record is not None:
                        yield record
            finally:
                # The running maximum of the replication key, flushed per file
                # (``_flush_bookmark``) instead of the SDK's bookkeeping per record.
                self._max_value = larger(self._max_value, builder.top)
            if not found:
                self._no_records(name, counts)

    def _document_elements(self, stream: IO[bytes], name: str) -> Iterator[Element]:
        try:
            yield from self._reader.records(stream, name)
        except (OSError, EOFError, zlib.error) as exc:
            raise SourceError(f"{name}: cannot read: {type(exc).__name__}: {exc}") from None

    def _no_records(self, name: str, counts: SyncCounts) -> None:
        counts.files_without_records += 1
        self.logger.warning(
            "%s: no element matches record_path %s (0 records)", name, self._cfg.record_path
        )

    def _processes_for(self, source: SourceFile) -> int:
        """How many processes read this file (see parallel.py): plain local files only."""
        wanted = self._settings.processes or min(2, available_cpus())
        if wanted < 2 or not hasattr(os, "fork"):  # no fork on Windows
            return 1
        if "file" not in getattr(source.fs, "protocol", ()):
            return 1
        if source.path.lower().endswith((".gz", ".zip")):
            return 1
        try:
            size = source.fs.size(source.path)
        except OSError:
            return 1
        return wanted if size >= self._settings.processes_min_file_mb * 2**20 else 1

    def _read_file_in_parallel(
        self,
        source: SourceFile,
        counts: SyncCounts,
        keep: Callable[[Any], bool] | None,
        processes: int,
        direct: _DirectWrite,
    ) -> None:
        writer = self._tap.message_writer
        assert isinstance(writer, BufferedMsgSpecWriter)  # the lean sync checked it
        alias, version = self.stream_maps[0].stream_alias, self._stream_version

        def elements() -> Iterator[Element]:
            for name, stream in self._source.documents(source):
                yield from self._document_elements(stream, name)

        job = FileJob(
            name=source.name,
            modified=source.modified.isoformat() if source.modified else None,
            elements=elements,
            rules=self._rules(keep),
            new_writer=lambda buffer: line_writer(alias, version, buffer, None),
        )
        # A forked process must not inherit queued output: it would write it again.
        writer.flush_records()
        sys.stdout.flush()
        sys.stderr.flush()
        progress = Progress()
        emitted = counts.emitted
        try:
            read_file(job, processes, direct.write, writer.write_lines, counts, progress)
        finally:
            self._max_value = larger(self._max_value, progress.top)
            direct.counter.increment(counts.emitted - emitted)
        if not progress.found:
            self._no_records(source.name, counts)

    def _lean_record_writer(self) -> RecordWriter | None:
        writer = self._tap.message_writer
        maps = self.stream_maps
        if (
            not isinstance(writer, BufferedMsgSpecWriter)
            or not self._every_property_selected()
            or len(maps) != 1
            or type(maps[0]) is not SameRecordTransform
            or (maps[0].flattening_options and maps[0].flattening_enabled)
        ):
            return None
        return writer.record_writer(maps[0].stream_alias, self._stream_version)

    def _every_property_selected(self) -> bool:
        if self._all_selected is None:
            self._all_selected = all(self.mask.values())
        return self._all_selected

    def _generate_record_messages(
        self, record: dict[str, Any]
    ) -> Generator[RecordMessage, None, None]:
        """The SDK's message generation minus its per-record no-ops on this stream.

        With every property selected, ``pop_deselected_record_properties`` (a copy and a walk
        of each record, a fifth of the SDK's time per record) removes nothing, and with
        conformance ``NONE`` the conformer returns the record unchanged; otherwise defer.
        """
        if not self._every_property_selected():
            yield from super()._generate_record_messages(record)
            return
        now = utc_now()
        for stream_map in self.stream_maps:
            mapped = stream_map.transform(record)
            if mapped is not None:
                yield RecordMessage(
                    stream=stream_map.stream_alias,
                    record=mapped,
                    version=self._stream_version,
                    time_extracted=now,
                )

    def _process_record(
        self,
        record: dict[str, Any],
        child_context: Context | None = None,
        partition_context: Context | None = None,
    ) -> None:
        """Without partitions nothing is added to a record, and there are no child streams."""
        if partition_context:
            super()._process_record(record, child_context, partition_context)

    def generate_child_contexts(
        self, record: dict[str, Any], context: Context | None
    ) -> Iterable[Context | None]:
        """No child streams here: skip building a child context per record."""
        return ()

    def _increment_stream_state(
        self, latest_record: dict[str, Any], *, context: Context | None = None
    ) -> None:
        """Nothing per record: ``_read_file`` keeps the running maximum, and the SDK's
        bookkeeping (which keeps the maximum as well, records being unsorted) runs once per
        file, in ``_flush_bookmark``."""

    def _sync_records(
        self, context: Context | None = None, *, write_messages: bool = True
    ) -> Generator[dict[str, Any], Any, Any]:
        """Write each record straight away when none of the SDK's per-record steps applies.

        With this stream unpartitioned and selected, no dry-run record limit, no
        ``post_process`` and the lean writer usable, the SDK's loop (limit check, post
        process, child context, state increment, counter and a generator hop per record)
        changes nothing, and cost a sixth of the tap's time per record. Metrics, the starting
        replication value and state are kept as the SDK keeps them; STATE is written after
        each file (``_changed_files_records``) and at the end.
        """
        write = self._lean_sync_writer(context, write_messages=write_messages)
        if write is None:
            yield from super()._sync_records(context, write_messages=write_messages)
            return
        counter = self.get_record_counter()
        with counter, self.get_sync_timer():
            self._write_starting_replication_value(None)
            self._direct = _DirectWrite(write, counter)
            pending = 0
            try:
                for record in self.get_records(None):
                    write(record)
                    pending += 1
                    if pending == COUNTER_STEP:
                        counter.increment(pending)
                        pending = 0
            finally:
                self._direct = None
            counter.increment(pending)
        self._finalize_state(self.stream_state)
        self._write_state_message()

    def _lean_sync_writer(
        self, context: Context | None, *, write_messages: bool
    ) -> RecordWriter | None:
        if (
            not write_messages
            or context is not None
            or self.partitions
            or self.child_streams
            or not self.selected
            or self.ABORT_AT_RECORD_COUNT is not None
            or type(self).post_process is not Stream.post_process
        ):
            return None
        return self._lean_record_writer()

    def _flush_bookmark(self, context: Context | None) -> None:
        if self._max_value is not None and self.replication_key:
            super()._increment_stream_state(
                {self.replication_key: self._max_value}, context=context
            )
            self._max_value = None

    def _generic_record(self, elem: Element) -> dict[str, Any]:
        value = element_value(elem)
        if not isinstance(value, dict):
            value = {"#text": value}
        props = self.schema["properties"]
        return {k: conform(v, props[k]) if k in props else v for k, v in value.items()}


def _declared_schema(fields: tuple[FieldSpec, ...]) -> dict[str, Any]:
    properties = {spec.name: field_schema(spec) for spec in fields}
    properties.update(METADATA_SCHEMA)
    return {"type": "object", "properties": properties}
