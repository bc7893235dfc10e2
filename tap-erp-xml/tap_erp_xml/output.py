"""Singer message writer: msgspec encoding, and no flush per RECORD (one syscall per record
was a measurable share of the run); SCHEMA and STATE still flush, so a target sees a STATE
only after every RECORD before it, and Python flushes the rest at exit.

``record_writer`` is the per-record fast path used by the stream when nothing transforms
records (see ``ErpXmlStream._write_record_message``): it writes exactly the line the SDK
would (same keys in the same order, same encoder settings, ``time_extracted`` taken per
record in UTC) without building a ``RecordMessage`` and its dict for every record.
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


class BufferedMsgSpecWriter(MsgSpecWriter):
    """msgspec JSON lines on stdout, flushed on every non-RECORD message."""

    def write_message(self, message: Message) -> None:
        """Write one message; flush unless it is a RECORD."""
        out = sys.stdout.buffer
        out.write(self.format_message(message))
        if not isinstance(message, RecordMessage):
            out.flush()

    def record_writer(self, stream: str, version: int | None) -> RecordWriter:
        """A function writing one RECORD line of ``stream`` per call, as ``write_message``."""
        out = sys.stdout.buffer
        encode_into = msgspec.json.Encoder(enc_hook=enc_hook, decimal_format="number").encode_into
        now = datetime.datetime.now
        utc = datetime.UTC
        message: dict[str, Any] = {"type": "RECORD", "stream": stream, "record": None}
        if version is not None:
            message["version"] = version
        message["time_extracted"] = None
        line = bytearray(1024)

        def write(record: dict[str, Any]) -> None:
            message["record"] = record
            message["time_extracted"] = now(utc)
            encode_into(message, line)
            line.append(10)
            out.write(line)

        return write
