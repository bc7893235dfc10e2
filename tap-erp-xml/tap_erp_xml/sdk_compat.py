"""Every use of singer-sdk's private API in the tap, each with the reason it has no public hook.

Records go through the SDK's own record loop. Two of its per-record steps do nothing for
this tap yet cost about 6 us of a record's ~29 us, which would put the tap below 0.30x
the records/s of a bare lxml loop (bench/RESULTS.md); they are skipped here, and only
here (ruff's SLF rule keeps private names out of the other modules).
``full_export`` streams also set the records' version and write ACTIVATE_VERSION through the
SDK's private members, since its only public path emits that message before the records.
``tests/test_sdk_compat.py`` fails when the SDK changes what these overrides rely on.
"""

from __future__ import annotations

import datetime
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from singer_sdk import Stream
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.singerlib import RecordMessage

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context


class RecordLoopShortcuts(Stream):
    """The SDK stream with the two no-op steps of its record loop skipped."""

    _every_property_selected: bool | None = None

    def _generate_record_messages(
        self, record: dict[str, Any]
    ) -> Generator[RecordMessage, None, None]:
        """Private: the SDK's message generation, without its selection walk when nothing
        is deselected (``pop_deselected_record_properties`` copies and walks every record,
        nested objects included, to remove nothing: ~4.5 us a record). No public hook lets
        a stream skip it. With a property deselected, or type conformance on, the SDK's own
        method runs."""
        if self._every_property_selected is None:
            self._every_property_selected = all(self.mask.values())
        if (
            not self._every_property_selected
            or self.TYPE_CONFORMANCE_LEVEL is not TypeConformanceLevel.NONE
        ):
            yield from super()._generate_record_messages(record)
            return
        now = datetime.datetime.now(datetime.UTC)
        for stream_map in self.stream_maps:
            mapped = stream_map.transform(record)
            if mapped is not None:
                yield RecordMessage(
                    stream=stream_map.stream_alias,
                    record=mapped,
                    version=self._stream_version,  # private: set by the SDK's sync
                    time_extracted=now,
                )

    def _increment_stream_state(
        self, latest_record: dict[str, Any], *, context: Context | None = None
    ) -> None:
        """Private: nothing per record. The stream keeps each file's largest replication
        value and hands it to ``bookmark`` once per file; the SDK's bookkeeping (a running
        maximum as well, records being unsorted) costs ~1.6 us a record and warns for every
        record without a value. No public hook updates the bookmark."""

    def set_stream_version(self, version: int) -> None:
        """Private: the version the SDK puts on every RECORD (``_stream_version``). The SDK
        sets it only when it emits ACTIVATE_VERSION itself, before the records."""
        self._stream_version = version

    def write_activate_version(self, version: int) -> None:
        """Private: the SDK's ACTIVATE_VERSION writer, one message per stream map alias (what
        its ``sync`` calls before the records; the tap calls it after a complete export)."""
        self._write_activate_version_message(version)

    def bookmark(self, value: Any, context: Context | None) -> None:
        """Advance the replication bookmark (progress markers) to ``value`` if larger."""
        if self.replication_key:
            super()._increment_stream_state({self.replication_key: value}, context=context)
