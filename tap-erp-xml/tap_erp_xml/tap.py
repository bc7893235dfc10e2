"""The tap: settings declared once (they feed ``--about``), parsed once, one-line errors."""

from __future__ import annotations

import functools
import sys
from typing import Any

import click
from singer_sdk import Stream, Tap
from singer_sdk import typing as th
from singer_sdk.plugin_base import SingerCommand

from tap_erp_xml.config import TapSettings, parse_settings
from tap_erp_xml.errors import TapErpXmlError
from tap_erp_xml.output import BufferedMsgSpecWriter
from tap_erp_xml.source import FileSource
from tap_erp_xml.streams import ErpXmlStream

_FIELDS_DESCRIPTION = (
    "Output property name -> field spec. A spec is a path string (text, string type) or an "
    "object: `path` (relative to the record element: `prefix:Child`, `A/B`, `@attr`, "
    "`A/@attr`, `.`, `*`), `type` (string, integer, number, boolean, date, date-time, array, "
    "object), `format` (strptime format for date/date-time), `decimal_separator`, "
    "`thousands_separator`, `true_values`/`false_values` (booleans), `items` (item type of a "
    "scalar array), `fields` (objects, or arrays of objects), `key` (path such as `@lang`: "
    "an object keyed by that value, as for per-language texts). Absent or empty values are "
    "null. Without `fields` each record element is emitted as a nested object and the "
    "schema is inferred by sampling."
)

STREAM_SCHEMA = th.ObjectType(
    th.Property(
        "name",
        th.StringType,
        required=True,
        description="Stream name (a valid identifier); also the Singer stream name.",
    ),
    th.Property(
        "record_path",
        th.StringType,
        required=True,
        description=(
            "Path of the record elements: `/a/b/c` from the root, or `//b/c` / `b/c` at any "
            "depth. Prefixes come from `namespaces`; `*:Name` matches any namespace."
        ),
    ),
    th.Property(
        "namespaces",
        th.ObjectType(additional_properties=th.StringType),
        description=(
            'Prefix -> namespace URI used in paths. The empty prefix `""` sets the namespace '
            "of unprefixed element names (for documents with a default namespace)."
        ),
    ),
    th.Property(
        "key_properties",
        th.ArrayType(th.StringType),
        description="Fields forming the primary key of the stream.",
    ),
    th.Property(
        "replication_key",
        th.StringType,
        description=(
            "Field whose value is bookmarked; records below the starting bookmark (state or "
            "`start_date`) are dropped, equal values are emitted again (at-least-once)."
        ),
    ),
    th.Property(
        "fields",
        th.CustomType({"type": "object", "additionalProperties": {"type": ["string", "object"]}}),
        description=_FIELDS_DESCRIPTION,
    ),
    th.Property(
        "files",
        th.ArrayType(th.StringType),
        description="Files of this stream, replacing the top-level `files` for it.",
    ),
    th.Property(
        "encoding",
        th.StringType,
        description="Encoding override for this stream's files (wins over top-level `encoding`).",
    ),
)

CONFIG_SCHEMA = th.PropertiesList(
    th.Property(
        "files",
        th.ArrayType(th.StringType),
        description=(
            "Files to read: local paths, globs (`exports/*.xml`, `**` for subfolders) or fsspec "
            "URLs (`file://`, `sftp://user@host/path/*.xml`, `s3://bucket/prefix/*.xml.gz`). "
            "`.gz` files and every `.xml` member of a `.zip` are read transparently. Relative "
            "paths are resolved against `base_dir`, else the working directory. A missing file "
            "or a pattern matching nothing is an error unless `allow_empty_match`."
        ),
    ),
    th.Property(
        "streams",
        th.ArrayType(STREAM_SCHEMA),
        required=True,
        description=(
            "Stream definitions: which elements are records and how to read them. Each has "
            "`name`, `record_path`, and optionally `namespaces`, `key_properties`, "
            "`replication_key`, `fields`, `files` and `encoding` (see the README)."
        ),
    ),
    th.Property(
        "base_dir",
        th.StringType,
        description="Folder that relative local `files` entries are resolved against.",
    ),
    th.Property(
        "encoding",
        th.StringType,
        description=(
            "Override the encoding declared in the files (for exports that declare UTF-8 but "
            "are written in Windows-1252, say). By default the XML declaration or BOM decides."
        ),
    ),
    th.Property(
        "on_invalid_value",
        th.StringType,
        allowed_values=["fail", "skip"],
        default="fail",
        description=(
            "A value that cannot be converted to its declared type: `fail` the run (default) "
            "with `file:line: field …`, or `skip` the record with a warning; skipped records "
            "are counted in the end-of-stream log line."
        ),
    ),
    th.Property(
        "on_malformed_file",
        th.StringType,
        allowed_values=["fail", "skip"],
        default="fail",
        description=(
            "A file that is not well-formed XML (or unreadable): `fail` the run (default), or "
            "`skip` the rest of it with a warning (records already emitted stay emitted; the "
            "file is not bookmarked, so it is read again next run)."
        ),
    ),
    th.Property(
        "allow_empty_match",
        th.BooleanType,
        default=False,
        description="Let a glob that matches no file pass silently instead of failing.",
    ),
    th.Property(
        "start_date",
        th.DateTimeType,
        description="Earliest replication key value to emit when there is no bookmark yet.",
    ),
    th.Property(
        "infer_schema_sample_size",
        th.IntegerType,
        default=100,
        description="Records sampled to infer the schema of a stream without `fields`.",
    ),
    th.Property(
        "processes",
        th.IntegerType,
        default=0,
        description=(
            "Processes reading one large local file together: each parses the whole file "
            "and converts every n-th block of records, and the tap writes the blocks in "
            "document order (same records, same order, same errors). About 1.4x the "
            "records per second with 2; each extra process costs one more parse of the "
            "file and ~50 MB. `0` (default) = 2 when this process may use 2 CPUs or more, "
            "`1` = one process. Compressed and remote files, and all files on Windows (no "
            "fork), are read by one process."
        ),
    ),
    th.Property(
        "processes_min_file_mb",
        th.IntegerType,
        default=32,
        description="Files smaller than this many MB are read by one process.",
    ),
    th.Property(
        "s3",
        th.ObjectType(
            th.Property(
                "aws_access_key_id", th.StringType, secret=True, description="Access key id."
            ),
            th.Property(
                "aws_secret_access_key", th.StringType, secret=True, description="Secret key."
            ),
            th.Property(
                "aws_session_token", th.StringType, secret=True, description="Session token."
            ),
            th.Property(
                "endpoint_url",
                th.StringType,
                description="Endpoint URL of an S3-compatible store (MinIO, Ceph and others).",
            ),
            th.Property("region", th.StringType, description="Region name."),
        ),
        description="Credentials for `s3://` files; unset keys fall back to the AWS chain.",
    ),
    th.Property(
        "sftp",
        th.ObjectType(
            th.Property("username", th.StringType, description="User, unless given in the URL."),
            th.Property("password", th.StringType, secret=True, description="Password."),
            th.Property("port", th.IntegerType, description="Port, unless given in the URL."),
            th.Property(
                "private_key",
                th.StringType,
                secret=True,
                description="Private key text (OpenSSH or PEM; Ed25519, ECDSA or RSA).",
            ),
            th.Property(
                "private_key_file", th.StringType, description="Path to a private key file."
            ),
            th.Property(
                "private_key_passphrase",
                th.StringType,
                secret=True,
                description="Passphrase of the private key.",
            ),
        ),
        description="Credentials for `sftp://` files.",
    ),
).to_dict()


class ErpXmlCommand(SingerCommand):
    """The SDK command, with the tap's own errors shown as one line and exit code 1."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """Run the command; turn ``TapErpXmlError`` into one log line, no traceback."""
        try:
            return super().main(*args, **kwargs)
        except TapErpXmlError as exc:
            sys.stdout.flush()
            self.logger.error("%s", exc)
            sys.exit(1)


class TapErpXml(Tap):
    """Singer tap for ERP XML product exports."""

    name = "tap-erp-xml"
    message_writer_class = BufferedMsgSpecWriter
    config_jsonschema = CONFIG_SCHEMA

    @functools.cached_property
    def settings(self) -> TapSettings:
        """The configuration, parsed once."""
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
