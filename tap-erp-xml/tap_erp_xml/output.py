"""Singer message writer: msgspec encoding, RECORD lines written in chunks.

``sys.stdout.buffer`` is not always buffered: under ``PYTHONUNBUFFERED`` (set in many
containers and by Meltano) it is the raw file, and every write is a system call - one per
record was a measurable share of the run. RECORD lines are therefore collected in a chunk
written once it exceeds ``CHUNK_BYTES``; any other message (SCHEMA, STATE, ...) first
writes the pending chunk, then itself, then flushes, so a target sees a STATE only after
every RECORD before it. ``flush_records`` ends a stream's sync, error or not.

``record_writer`` is the per-record fast path used by the stream when nothing transforms
records (see ``ErpXmlStream._sync_records``): it appends exactly the line the SDK
would write (same keys in the same order, same encoder settings) without building a
``RecordMessage`` and its dict for every record. ``time_extracted`` is read from the clock
once per chunk (every ~100 records, a few milliseconds apart), not once per record.
"""

from __future__ import annotations

import datetime
import sys
from collections.abc import Callable
from typing import Any

import msgspec
from singer_sdk.contrib.msgspec import MsgSpecWriter, enc_hook
from singer_sdk.singerlib.encoding.simple import Message, RecordMessage

RecordWriter = Callable[[dict[str, Any]], None]
CHUNK_BYTES = 1 << 16


class BufferedMsgSpecWriter(MsgSpecWriter):
    """msgspec JSON lines on stdout; RECORD lines in chunks, anything else flushed."""

    def __init__(self) -> None:
        super().__init__()
        self._pending = bytearray()

    def flush_records(self) -> None:
        """Write the pending RECORD lines, if any."""
        if self._pending:
            sys.stdout.buffer.write(self._pending)
            self._pending.clear()

    def write_message(self, message: Message) -> None:
        """Queue a RECORD line; write any other message at once, after pending records."""
        line = self.format_message(message)
        if isinstance(message, RecordMessage):
            self._pending += line
            if len(self._pending) >= CHUNK_BYTES:
                self.flush_records()
            return
        self.flush_records()
        out = sys.stdout.buffer
        out.write(line)
        out.flush()

    def record_writer(self, stream: str, version: int | None) -> RecordWriter:
        """A function queueing one RECORD line of ``stream`` per call, as ``write_message``."""
        return line_writer(stream, version, self._pending, self.flush_records)

    def write_lines(self, lines: bytes | bytearray) -> None:
        """Queue complete RECORD lines encoded elsewhere (by another process, parallel.py)."""
        self._pending += lines
        if len(self._pending) >= CHUNK_BYTES:
            self.flush_records()


def line_writer(
    stream: str, version: int | None, buffer: bytearray, flush: Callable[[], None] | None
) -> RecordWriter:
    """A function appending one RECORD line of ``stream`` to ``buffer`` per call.

    With ``flush``, the buffer is handed to it each time it exceeds ``CHUNK_BYTES``;
    without, the caller empties it.
    """
    encoder = msgspec.json.Encoder(enc_hook=enc_hook, decimal_format="number")
    encode_into = encoder.encode_into
    message: dict[str, Any] = {"type": "RECORD", "stream": stream, "record": None}
    if version is not None:
        message["version"] = version

    def stamp() -> str:
        # The SDK's text for an aware UTC datetime, made once per chunk, not per record.
        return encoder.encode(datetime.datetime.now(datetime.UTC)).decode()[1:-1]

    message["time_extracted"] = stamp()

    def write(record: dict[str, Any]) -> None:
        message["record"] = record
        encode_into(message, buffer, -1)
        buffer.append(10)
        if flush is not None and len(buffer) >= CHUNK_BYTES:
            flush()
            message["time_extracted"] = stamp()

    return write
