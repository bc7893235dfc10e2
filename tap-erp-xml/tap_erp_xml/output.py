"""Singer message writer: msgspec encoding, and no flush per RECORD (one syscall per record
was a measurable share of the run); SCHEMA and STATE still flush, so a target sees a STATE
only after every RECORD before it, and Python flushes the rest at exit."""

from __future__ import annotations

import sys

from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.singerlib.encoding.simple import Message, RecordMessage


class BufferedMsgSpecWriter(MsgSpecWriter):
    """msgspec JSON lines on stdout, flushed on every non-RECORD message."""

    def write_message(self, message: Message) -> None:
        """Write one message; flush unless it is a RECORD."""
        out = sys.stdout.buffer
        out.write(self.format_message(message))
        if not isinstance(message, RecordMessage):
            out.flush()
