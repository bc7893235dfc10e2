"""Settings declared once, as the JSON schema below, and turned into typed objects once.

The schema (singer-sdk typing helpers) is the only place that states a setting's choices,
ranges and defaults: it feeds ``--about``, the Hub definitions and the validation here. The
code below adds only what a schema cannot say (checks spanning several settings, paths
resolved against the stream's namespaces), and every error starts with the setting's path.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import hashlib
import json
import re
import types
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema.exceptions import best_match
from singer_sdk import typing as th
from singer_sdk.typing import DEFAULT_JSONSCHEMA_VALIDATOR, extend_validator_with_defaults

from tap_erp_xml import presets
from tap_erp_xml.errors import ConfigError
from tap_erp_xml.paths import Path, RecordPath, parse_path, parse_record_path

SCALAR_TYPES = ["string", "integer", "number", "boolean", "date", "date-time"]

# One field spec: a path string, or an object. Recursive (``fields``), hence a plain dict.
FIELD_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "string", "minLength": 1},
        {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "path": {"type": "string", "minLength": 1},
                "value": {"type": "string", "minLength": 1},
                "pattern": {"type": "string", "minLength": 1},
                "join": {"type": "string"},
                "null_values": {"$ref": "#/$defs/null_values"},
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
NULL_VALUES_SCHEMA: dict[str, Any] = {"type": "array", "items": {"type": "string"}}
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
    "`fields` (objects, or arrays of objects), `key` (path such as `@lang` or a child such as "
    "`LANG`: an object keyed by that value, as for per-language texts) with `value` (child "
    "path of the keyed value), `pattern` (regular expression; with `fields` named after its "
    "groups, an object of typed parts), `join` (separator: every match's text joined into "
    "one string), `null_values` (texts read as null). Absent or empty values are null. Without "
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
        "preset",
        th.StringType,
        allowed_values=list(presets.NAMES),
        description=(
            "A format's stream definition (`google-merchant`, `sap-matmas`, ...) supplying "
            "`record_path`, `namespaces`, `key_properties` and `fields`; the stream's own "
            "settings win, its own `fields` are added to the preset's or replace them by name."
        ),
    ),
    th.Property(
        "record_path",
        TEXT,
        description=(
            "Path of the record elements: `/a/b/c` from the root, or `//b/c` / `b/c` at any "
            "depth. Prefixes come from `namespaces`; `*:Name` matches any namespace. "
            "Required unless a `preset` gives it."
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
        "null_values",
        th.CustomType(NULL_VALUES_SCHEMA),
        description=(
            'Texts read as null in every field of the stream (e.g. `["00000000", "N/A"]`), '
            "before conversion; a field's own `null_values` replace them for that field."
        ),
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
            "`name`, `record_path` (or a `preset`), and optionally `namespaces`, "
            "`key_properties`, `replication_key`, `fields`, `null_values`, `files`, `encoding` "
            "and `full_export` (see the README)."
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
CONFIG_SCHEMA["$defs"] = {
    "field": FIELD_SCHEMA,
    "fields": FIELDS_SCHEMA,
    "null_values": NULL_VALUES_SCHEMA,
}


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
    value: Path | None = None
    fields: tuple[FieldSpec, ...] = ()
    true_values: tuple[str, ...] = ()
    false_values: tuple[str, ...] = ()
    pattern: re.Pattern[str] | None = None
    join: str | None = None
    null_values: frozenset[str] = frozenset()
    # False for a preset's fields the user did not write: a feed may well not use them all.
    reported_if_missing: bool = True

    @property
    def value_type(self) -> str:
        """The type of one value: the item type of an array, else the field's type."""
        return self.items if self.type == "array" else self.type


@dataclass(frozen=True)
class Shape:
    """Another document layout a stream reads (a preset's variant, e.g. Atom beside RSS):
    its record elements and their fields, which have the stream's field names."""

    record_path: RecordPath
    fields: tuple[FieldSpec, ...] | None


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
    # Read where `record_path` does not match but one of these does (first match wins).
    alternatives: tuple[Shape, ...] = ()

    @property
    def shapes(self) -> tuple[Shape, ...]:
        """The stream's own layout first, then its alternatives."""
        return (Shape(self.record_path, self.fields), *self.alternatives)

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
# A stream merged with its preset is checked again as a whole (the preset's fields included).
_PRESET_STREAM_SCHEMA = {
    **CONFIG_SCHEMA["properties"]["streams"]["items"],
    "$defs": CONFIG_SCHEMA["$defs"],
}


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
    own_fields = set(raw.get("fields") or ())
    variants: list[dict[str, Any]] = []
    if raw.get("preset") is not None:
        preset = presets.load(raw["preset"])
        # A variant (another layout of the format) is the preset with its overrides, and
        # then the stream's own settings, like the preset itself.
        variants = [
            validate(presets.merge(presets.merge(preset, variant), raw), _PRESET_STREAM_SCHEMA)
            for variant in preset.pop(presets.VARIANTS, ())
        ]
        raw = validate(presets.merge(preset, raw), _PRESET_STREAM_SCHEMA)
    if "record_path" not in raw:
        raise ConfigError(f"{setting}: 'record_path' is a required property (or give a preset)")
    shape = _shape(raw, setting, own_fields)
    alternatives = tuple(_shape(variant, setting, own_fields) for variant in variants)
    fields = shape.fields
    for alternative in alternatives:
        if [f.name for f in alternative.fields or ()] != [f.name for f in fields or ()]:
            raise ConfigError(
                f"{setting}.preset: variant '{alternative.record_path.text}' of preset "
                f"'{raw['preset']}' does not have the same fields"
            )
    if fields is not None:
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
        record_path=shape.record_path,
        key_properties=tuple(raw.get("key_properties") or ()),
        replication_key=raw.get("replication_key"),
        fields=fields,
        files=files,
        encoding=raw.get("encoding") or encoding,
        full_export=bool(raw.get("full_export")),
        fingerprint=_fingerprint(
            {**raw, presets.VARIANTS: variants} if variants else raw,
            raw.get("encoding") or encoding,
        ),
        alternatives=alternatives,
    )


def _shape(raw: Mapping[str, Any], setting: str, own_fields: set[str]) -> Shape:
    """The record path and fields of a (validated) stream definition."""
    namespaces = raw.get("namespaces") or {}
    fields = None
    if raw.get("fields") is not None:
        nulls = frozenset(raw.get("null_values") or ())
        fields = parse_fields(raw["fields"], namespaces, f"{setting}.fields", nulls)
        if raw.get("preset") is not None:
            fields = tuple(
                f if f.name in own_fields else dataclasses.replace(f, reported_if_missing=False)
                for f in fields
            )
    record_path = parse_record_path(raw["record_path"], namespaces, f"{setting}.record_path")
    return Shape(record_path, fields)


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
    raw: Mapping[str, Any],
    namespaces: Mapping[str, str],
    setting: str,
    null_values: frozenset[str] = frozenset(),
) -> tuple[FieldSpec, ...]:
    """Typed specs of a (schema-valid) ``fields`` mapping; ``null_values`` are inherited."""
    return tuple(
        parse_field(str(name), spec, namespaces, f"{setting}.{name}", null_values)
        for name, spec in raw.items()
    )


def parse_field(
    name: str,
    raw: str | Mapping[str, Any],
    namespaces: Mapping[str, str],
    setting: str,
    null_values: frozenset[str] = frozenset(),
    group: re.Pattern[str] | None = None,
) -> FieldSpec:
    """Typed spec of one (schema-valid) field: a path string or an object.

    ``group`` is the pattern of the parent field when this field is one of its named groups
    (then it has no path: its text is the group's).
    """
    if isinstance(raw, str):
        if group is not None:
            raise ConfigError(f"{setting}: a pattern group's field is an object such as {{}}")
        raw = {"path": raw}
    if "null_values" in raw:
        null_values = frozenset(raw["null_values"])
    pattern = _pattern(raw.get("pattern"), f"{setting}.pattern")
    if group is not None:
        if "path" in raw:
            raise ConfigError(
                f"{setting}.path: a pattern group's field takes its text from the group"
            )
        if name not in group.groupindex:
            raise ConfigError(
                f"{setting}: no group (?P<{name}>...) in the pattern {group.pattern!r}"
            )
        path = Path((), None, f"(?P<{name}>)")
    elif "path" not in raw:
        raise ConfigError(f"{setting}: 'path' is a required property")
    else:
        path = parse_path(raw["path"], namespaces, f"{setting}.path")
    sub: tuple[FieldSpec, ...] = ()
    if "fields" in raw:
        sub = tuple(
            parse_field(str(n), f, namespaces, f"{setting}.fields.{n}", null_values, pattern)
            for n, f in raw["fields"].items()
        )
    key, value = raw.get("key"), raw.get("value")
    spec = FieldSpec(
        name=name,
        setting=setting,
        path=path,
        type=raw.get("type", "object" if sub and key is None else "string"),
        items=raw.get("items", "string"),
        format=raw.get("format"),
        decimal_separator=raw.get("decimal_separator", "."),
        thousands_separator=raw.get("thousands_separator"),
        key=None if key is None else parse_path(key, namespaces, f"{setting}.key"),
        value=None if value is None else parse_path(value, namespaces, f"{setting}.value"),
        fields=sub,
        true_values=tuple(v.lower() for v in raw.get("true_values", ())),
        false_values=tuple(v.lower() for v in raw.get("false_values", ())),
        pattern=pattern,
        join=raw.get("join"),
        null_values=null_values,
    )
    _check_field(spec, group is not None)
    return spec


def _pattern(text: str | None, setting: str) -> re.Pattern[str] | None:
    """The compiled ``pattern`` (compiled here, once, never per record)."""
    if text is None:
        return None
    try:
        return re.compile(text)
    except re.error as exc:
        raise ConfigError(f"{setting}: does not compile: {exc}") from None


def _check_field(spec: FieldSpec, group: bool) -> None:
    """The rules between a field's options that the schema cannot state."""
    where = spec.setting
    if group and (
        spec.key
        or spec.fields
        or spec.pattern
        or spec.join is not None
        or spec.type in {"array", "object"}
    ):
        raise ConfigError(f"{where}: a pattern group's field is a scalar (type, format, ...)")
    if spec.thousands_separator == spec.decimal_separator:
        raise ConfigError(f"{where}.thousands_separator: equals the decimal separator")
    if spec.value_type == "object" and not spec.fields:
        raise ConfigError(f"{where}.fields: type object needs fields")
    if spec.fields and spec.path.attribute is not None and spec.pattern is None:
        raise ConfigError(f"{where}.path: an @attribute path cannot have fields")
    if spec.type == "array" and not spec.path.steps and spec.join is None:
        raise ConfigError(f"{where}.path: an array path needs at least one element step")
    if spec.value is not None and spec.key is None:
        raise ConfigError(f"{where}.value: needs key (value is the child read under each key)")
    if spec.value is not None and spec.fields:
        raise ConfigError(f"{where}.value: give value or fields, not both")
    if spec.key is not None and spec.key.steps and spec.value is None and not spec.fields:
        raise ConfigError(
            f"{where}.key: a child key needs value (the child holding the text, or '.') or fields"
        )
    if spec.join is not None:
        if spec.type == "array" or spec.fields or spec.pattern:
            raise ConfigError(
                f"{where}.join: joins the texts of a scalar field (no type array, fields or "
                "pattern)"
            )
        repeated = spec.value if spec.key is not None else spec.path
        if repeated is None or not repeated.steps or repeated.attribute is not None:
            which = "value" if spec.key is not None else "path"
            raise ConfigError(f"{where}.join: needs a {which} of repeated elements, not . or @attr")


def _start_date(raw: str | None) -> datetime.datetime | None:
    if raw is None:
        return None
    try:
        value = datetime.datetime.fromisoformat(raw)
    except ValueError:
        raise ConfigError(f"start_date: not an ISO 8601 date or date-time: {raw!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=datetime.UTC)
