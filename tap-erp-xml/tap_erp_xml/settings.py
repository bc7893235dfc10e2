"""Settings declared once, as the JSON schema below, and turned into typed objects once.

The schema (singer-sdk typing helpers) is the only place that states a setting's choices,
ranges and defaults: it feeds ``--about``, the Hub definitions and the validation here. The
code below adds only what a schema cannot say (checks spanning several settings, paths
resolved against the stream's namespaces), and every error starts with the setting's path.
"""

from __future__ import annotations

import copy
import datetime
import hashlib
import json
import types
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema.exceptions import best_match
from singer_sdk import typing as th
from singer_sdk.typing import DEFAULT_JSONSCHEMA_VALIDATOR, extend_validator_with_defaults

from tap_erp_xml.errors import ConfigError
from tap_erp_xml.paths import Path, RecordPath, parse_path, parse_record_path

SCALAR_TYPES = ["string", "integer", "number", "boolean", "date", "date-time"]

# One field spec: a path string, or an object. Recursive (``fields``), hence a plain dict.
FIELD_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "string", "minLength": 1},
        {
            "type": "object",
            "required": ["path"],
            "additionalProperties": False,
            "properties": {
                "path": {"type": "string", "minLength": 1},
                "type": {"enum": [*SCALAR_TYPES, "array", "object"]},
                "items": {"enum": SCALAR_TYPES, "default": "string"},
                "format": {"type": "string", "minLength": 1},
                "decimal_separator": {"type": "string", "minLength": 1, "default": "."},
                "thousands_separator": {"type": "string", "minLength": 1},
                "true_values": {"type": "array", "items": {"type": "string", "minLength": 1}},
                "false_values": {"type": "array", "items": {"type": "string", "minLength": 1}},
                "key": {"type": "string", "minLength": 1},
                "fields": {"$ref": "#/$defs/fields"},
            },
        },
    ]
}
FIELDS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "minProperties": 1,
    "additionalProperties": {"$ref": "#/$defs/field"},
}

_FIELDS_DESCRIPTION = (
    "Output property name -> field spec. A spec is a path string (text, string type) or an "
    "object: `path` (relative to the record element: `prefix:Child`, `A/B`, `@attr`, "
    "`A/@attr`, `.`, `*`), `type` (string, integer, number, boolean, date, date-time, array, "
    "object; default string, or object when `fields` is given without `key`), `format` "
    "(strptime format for date/date-time), `decimal_separator`, `thousands_separator`, "
    "`true_values`/`false_values` (booleans), `items` (item type of a scalar array), "
    "`fields` (objects, or arrays of objects), `key` (path such as `@lang`: an object keyed "
    "by that value, as for per-language texts). Absent or empty values are null. Without "
    "`fields` each record element is emitted as a nested object and the schema is inferred "
    "by sampling."
)

TEXT = th.StringType(min_length=1)


def _fail_or_skip(name: str, description: str) -> th.Property[Any]:
    """What to do when a value or a file is bad: ``fail`` (default) or ``skip``."""
    return th.Property(
        name,
        th.StringType,
        allowed_values=["fail", "skip"],
        default="fail",
        description=description,
    )


TEXTS = th.ArrayType(TEXT)
STREAM_SCHEMA = th.ObjectType(
    th.Property(
        "name",
        th.StringType(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$"),
        required=True,
        description="Stream name (a valid identifier); also the Singer stream name.",
    ),
    th.Property(
        "record_path",
        TEXT,
        required=True,
        description=(
            "Path of the record elements: `/a/b/c` from the root, or `//b/c` / `b/c` at any "
            "depth. Prefixes come from `namespaces`; `*:Name` matches any namespace."
        ),
    ),
    th.Property(
        "namespaces",
        th.ObjectType(additional_properties=TEXT),
        description=(
            'Prefix -> namespace URI used in paths. The empty prefix `""` sets the namespace '
            "of unprefixed element names (for documents with a default namespace)."
        ),
    ),
    th.Property(
        "key_properties",
        TEXTS,
        description="Fields forming the primary key of the stream.",
    ),
    th.Property(
        "replication_key",
        TEXT,
        description=(
            "Field whose value is bookmarked; records below the starting bookmark (state or "
            "`start_date`) are dropped, equal values are emitted again (at-least-once)."
        ),
    ),
    th.Property("fields", th.CustomType(FIELDS_SCHEMA), description=_FIELDS_DESCRIPTION),
    th.Property(
        "files",
        TEXTS,
        description="Files of this stream, replacing the top-level `files` for it.",
    ),
    th.Property(
        "encoding",
        TEXT,
        description="Encoding override for this stream's files (wins over top-level `encoding`).",
    ),
    th.Property(
        "full_export",
        th.BooleanType,
        default=False,
        description=(
            "The stream's files are one complete export: when any of them changed, all are "
            "read (the replication key filters nothing), records carry a version, and once "
            "every file was read without error or skipped record, ACTIVATE_VERSION follows, "
            "so a target can act on the records it did not receive. A run that reads no file "
            "emits no ACTIVATE_VERSION."
        ),
    ),
)

CONFIG_SCHEMA = th.PropertiesList(
    th.Property(
        "files",
        TEXTS,
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
            "`replication_key`, `fields`, `files`, `encoding` and `full_export` (see the README)."
        ),
    ),
    th.Property(
        "base_dir",
        TEXT,
        description="Folder that relative local `files` entries are resolved against.",
    ),
    th.Property(
        "encoding",
        TEXT,
        description=(
            "Override the encoding declared in the files (for exports that declare UTF-8 but "
            "are written in Windows-1252, say). By default the XML declaration or BOM decides."
        ),
    ),
    _fail_or_skip(
        "on_invalid_value",
        (
            "A value that cannot be converted to its declared type: `fail` the run (default) "
            "with `file:line:column (record n, key=value): field …`, or `skip` the record with "
            "a warning; skipped records are counted in the end-of-stream log line."
        ),
    ),
    _fail_or_skip(
        "on_malformed_file",
        (
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
        th.IntegerType(minimum=1),
        default=100,
        description="Records sampled to infer the schema of a stream without `fields`.",
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
            th.Property(
                "port",
                th.IntegerType(minimum=1, maximum=65535),
                description="Port, unless given in the URL.",
            ),
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
CONFIG_SCHEMA["properties"]["streams"]["minItems"] = 1
CONFIG_SCHEMA["$defs"] = {"field": FIELD_SCHEMA, "fields": FIELDS_SCHEMA}


@dataclass(frozen=True)
class FieldSpec:
    """One output property: where it is in the record element and how to convert it.

    ``path`` and ``key`` are parsed once, here, against the stream's namespaces.
    """

    name: str
    setting: str
    path: Path
    type: str = "string"
    items: str = "string"
    format: str | None = None
    decimal_separator: str = "."
    thousands_separator: str | None = None
    key: Path | None = None
    fields: tuple[FieldSpec, ...] = ()
    true_values: tuple[str, ...] = ()
    false_values: tuple[str, ...] = ()

    @property
    def value_type(self) -> str:
        """The type of one value: the item type of an array, else the field's type."""
        return self.items if self.type == "array" else self.type


@dataclass(frozen=True)
class StreamConfig:
    """One stream: its record elements, keys, fields and files."""

    name: str
    setting: str
    record_path: RecordPath
    key_properties: tuple[str, ...]
    replication_key: str | None
    fields: tuple[FieldSpec, ...] | None
    files: tuple[str, ...]
    encoding: str | None
    full_export: bool = False
    # Hash of everything in the definition that shapes the records (see _fingerprint).
    fingerprint: str = ""

    @property
    def replication_type(self) -> str:
        """Declared type of the replication key (string for schema-less streams)."""
        spec = next((f for f in self.fields or () if f.name == self.replication_key), None)
        return spec.type if spec else "string"


@dataclass(frozen=True)
class TapSettings:
    """The whole tap configuration."""

    streams: tuple[StreamConfig, ...]
    base_dir: str | None
    on_invalid_value: str
    on_malformed_file: str
    allow_empty_match: bool
    infer_schema_sample_size: int
    start_date: datetime.datetime | None
    s3: Mapping[str, Any]  # as given (unset keys absent)
    sftp: Mapping[str, Any]


_VALIDATOR = extend_validator_with_defaults(DEFAULT_JSONSCHEMA_VALIDATOR)


def setting_path(parts: Iterable[str | int]) -> str:
    """``streams[0].fields.sku`` from a JSON path such as ``["streams", 0, "fields", "sku"]``."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text


def validate(config: Mapping[str, Any], schema: dict[str, Any] = CONFIG_SCHEMA) -> dict[str, Any]:
    """A copy of ``config`` with the schema's defaults filled in; one line per error."""
    filled = copy.deepcopy(dict(config))
    error = best_match(_VALIDATOR(schema).iter_errors(filled))
    if error is not None:
        where = setting_path(error.absolute_path) or "config"
        raise ConfigError(f"{where}: {error.message}")
    return filled


def parse_settings(config: Mapping[str, Any]) -> TapSettings:
    """Validate the configuration against the schema, then make it typed settings."""
    raw = validate(config)
    default_files = tuple(raw.get("files") or ())
    streams = tuple(
        _stream(s, f"streams[{i}]", default_files, raw.get("encoding"))
        for i, s in enumerate(raw["streams"])
    )
    seen: set[str] = set()
    for stream in streams:
        if stream.name in seen:
            raise ConfigError(f'{stream.setting}.name: duplicate stream name "{stream.name}"')
        seen.add(stream.name)
    return TapSettings(
        streams=streams,
        base_dir=raw.get("base_dir"),
        on_invalid_value=raw["on_invalid_value"],
        on_malformed_file=raw["on_malformed_file"],
        allow_empty_match=raw["allow_empty_match"],
        infer_schema_sample_size=raw["infer_schema_sample_size"],
        start_date=_start_date(raw.get("start_date")),
        s3=types.MappingProxyType(raw.get("s3") or {}),
        sftp=types.MappingProxyType(raw.get("sftp") or {}),
    )


def _stream(
    raw: dict[str, Any], setting: str, default_files: tuple[str, ...], encoding: str | None
) -> StreamConfig:
    namespaces = raw.get("namespaces") or {}
    fields = None
    if raw.get("fields") is not None:
        fields = parse_fields(raw["fields"], namespaces, f"{setting}.fields")
        names = {f.name: f for f in fields}
        for key in raw.get("key_properties") or ():
            if key not in names:
                raise ConfigError(f'{setting}.key_properties: "{key}" is not a declared field')
        key = raw.get("replication_key")
        spec = names.get(key or "")
        if key is not None and (spec is None or spec.type not in SCALAR_TYPES or spec.key):
            raise ConfigError(f'{setting}.replication_key: "{key}" is not a declared scalar field')
    files = tuple(raw.get("files") or ()) or default_files
    if not files:
        raise ConfigError(f"{setting}.files: no files configured (set files or {setting}.files)")
    return StreamConfig(
        name=raw["name"],
        setting=setting,
        record_path=parse_record_path(raw["record_path"], namespaces, f"{setting}.record_path"),
        key_properties=tuple(raw.get("key_properties") or ()),
        replication_key=raw.get("replication_key"),
        fields=fields,
        files=files,
        encoding=raw.get("encoding") or encoding,
        full_export=bool(raw.get("full_export")),
        fingerprint=_fingerprint(raw, raw.get("encoding") or encoding),
    )


def fingerprint(value: Any) -> str:
    """A short hash of JSON-like ``value``, the same across runs and dict orders."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _fingerprint(raw: Mapping[str, Any], encoding: str | None) -> str:
    """Of the validated definition (defaults filled) as written, minus what does not change
    a file's records: a cosmetic edit (a renamed prefix) reads the files again, harmlessly;
    any option, including ones added later, is covered without listing it here."""
    shaping = {k: v for k, v in raw.items() if k not in {"name", "files", "full_export"}}
    return fingerprint({**shaping, "encoding": encoding})


def parse_fields(
    raw: Mapping[str, Any], namespaces: Mapping[str, str], setting: str
) -> tuple[FieldSpec, ...]:
    """Typed specs of a (schema-valid) ``fields`` mapping."""
    return tuple(
        parse_field(str(name), spec, namespaces, f"{setting}.{name}") for name, spec in raw.items()
    )


def parse_field(
    name: str, raw: str | Mapping[str, Any], namespaces: Mapping[str, str], setting: str
) -> FieldSpec:
    """Typed spec of one (schema-valid) field: a path string or an object."""
    if isinstance(raw, str):
        raw = {"path": raw}
    sub = parse_fields(raw["fields"], namespaces, f"{setting}.fields") if "fields" in raw else ()
    key = raw.get("key")
    spec = FieldSpec(
        name=name,
        setting=setting,
        path=parse_path(raw["path"], namespaces, f"{setting}.path"),
        type=raw.get("type", "object" if sub and key is None else "string"),
        items=raw.get("items", "string"),
        format=raw.get("format"),
        decimal_separator=raw.get("decimal_separator", "."),
        thousands_separator=raw.get("thousands_separator"),
        key=None if key is None else parse_path(key, namespaces, f"{setting}.key"),
        fields=sub,
        true_values=tuple(v.lower() for v in raw.get("true_values", ())),
        false_values=tuple(v.lower() for v in raw.get("false_values", ())),
    )
    _check_field(spec)
    return spec


def _check_field(spec: FieldSpec) -> None:
    """The rules between a field's options that the schema cannot state."""
    if spec.thousands_separator == spec.decimal_separator:
        raise ConfigError(f"{spec.setting}.thousands_separator: equals the decimal separator")
    if spec.value_type == "object" and not spec.fields:
        raise ConfigError(f"{spec.setting}.fields: type object needs fields")
    if spec.fields and spec.path.attribute is not None:
        raise ConfigError(f"{spec.setting}.path: an @attribute path cannot have fields")
    if spec.type == "array" and not spec.path.steps:
        raise ConfigError(f"{spec.setting}.path: an array path needs at least one element step")


def _start_date(raw: str | None) -> datetime.datetime | None:
    if raw is None:
        return None
    try:
        value = datetime.datetime.fromisoformat(raw)
    except ValueError:
        raise ConfigError(f"start_date: not an ISO 8601 date or date-time: {raw!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=datetime.UTC)
