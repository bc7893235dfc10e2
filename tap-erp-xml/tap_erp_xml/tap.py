"""The tap: settings parsed once at start, records through the SDK, user errors as one line."""

from __future__ import annotations

import functools
import sys
from typing import Any

import click
from singer_sdk import Stream, Tap
from singer_sdk.contrib.msgspec import MsgSpecWriter, encoder
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.plugin_base import SingerCommand
from singer_sdk.singerlib import Message, RecordMessage

from tap_erp_xml.errors import ConfigError, TapErpXmlError
from tap_erp_xml.settings import CONFIG_SCHEMA, TapSettings, parse_settings, validate
from tap_erp_xml.source import FileSource
from tap_erp_xml.streams import ErpXmlStream

CHUNK_BYTES = 1 << 16


class ChunkedMsgSpecWriter(MsgSpecWriter):
    """The SDK's msgspec writer, with RECORD lines written in chunks of ``CHUNK_BYTES``.

    The SDK's writer flushes stdout after every message: one system call per record, a
    tenth of the tap's time. Any other message (SCHEMA, STATE...) first writes the queued
    records, then itself, and flushes, so a target sees a STATE only after the RECORDs
    before it; a stream writes what is left when it ends, error or not.
    """

    def __init__(self) -> None:
        super().__init__()
        self._queued = bytearray()

    def write_message(self, message: Message) -> None:
        """Queue a RECORD line; write anything else at once, after the queued lines.

        Encoded straight into the queue with the SDK's own msgspec encoder (its
        ``format_message`` encodes into a shared buffer that would be copied here).
        """
        encoder.encode_into(message.to_dict(), self._queued, -1)
        self._queued.append(10)
        if not isinstance(message, RecordMessage) or len(self._queued) >= CHUNK_BYTES:
            self.flush()

    def flush(self) -> None:
        """Write the queued lines."""
        if self._queued:
            sys.stdout.buffer.write(self._queued)
            sys.stdout.buffer.flush()
            self._queued.clear()


class ErpXmlCommand(SingerCommand):
    """The SDK command, with the tap's own errors shown as one line and exit code 1."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """Run the command; turn ``TapErpXmlError`` into one ERROR line, no traceback."""
        try:
            return super().main(*args, **kwargs)
        except TapErpXmlError as exc:
            sys.stdout.flush()
            self.logger.error("%s", exc)
            sys.exit(1)


class TapErpXml(Tap):
    """Singer tap for ERP XML product exports."""

    name = "tap-erp-xml"
    message_writer_class = ChunkedMsgSpecWriter
    config_jsonschema = CONFIG_SCHEMA

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Validate and parse the settings once; a mistake is one ``ConfigError`` line."""
        try:
            super().__init__(*args, **kwargs)
        except ConfigValidationError as exc:
            # The SDK logs one line per schema error plus a summary; say the first, once.
            validate(self.config, self.config_jsonschema)
            raise ConfigError("; ".join(exc.errors)) from None
        _ = self.settings  # fail now, not at the first stream

    @functools.cached_property
    def settings(self) -> TapSettings:
        """The configuration as typed settings, parsed once."""
        return parse_settings(self.config)

    def discover_streams(self) -> list[Stream]:
        """One stream per configured stream definition."""
        source = FileSource(self.settings)
        return [ErpXmlStream(self, s, self.settings, source) for s in self.settings.streams]

    @classmethod
    def get_singer_command(cls) -> click.Command:
        """The SDK command re-wrapped so user errors end as one line."""
        command = super().get_singer_command()
        return ErpXmlCommand(
            name=command.name,
            callback=command.callback,
            params=command.params,
            help=command.help,
            context_settings=command.context_settings,
            logger=cls.logger,
        )


if __name__ == "__main__":
    TapErpXml.cli()
