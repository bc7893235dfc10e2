"""Settings parsed once, at start, into frozen dataclasses; errors name the setting's path."""

from __future__ import annotations

import datetime
import types
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tap_erp_xml.errors import ConfigError

SCALAR_TYPES = ("string", "integer", "number", "boolean", "date", "date-time")
FIELD_TYPES = (*SCALAR_TYPES, "array", "object")
ON_INVALID_VALUE = ("fail", "skip")
ON_MALFORMED_FILE = ("fail", "skip")
_FIELD_KEYS = frozenset(
    {
        "path",
        "type",
        "format",
        "decimal_separator",
        "thousands_separator",
        "key",
        "items",
        "fields",
        "true_values",
        "false_values",
    }
)


@dataclass(frozen=True)
class FieldSpec:
    """One output property: where it is in the record element and how to convert it."""

    name: str
    setting: str
    path: str
    type: str = "string"
    items: str = "string"
    format: str | None = None
    decimal_separator: str = "."
    thousands_separator: str | None = None
    key: str | None = None
    fields: tuple[FieldSpec, ...] = ()
    true_values: tuple[str, ...] = ()
    false_values: tuple[str, ...] = ()


@dataclass(frozen=True)
class StreamConfig:
    """One stream: its record elements, namespaces, keys and fields."""

    name: str
    setting: str
    record_path: str
    namespaces: Mapping[str, str]
    key_properties: tuple[str, ...]
    replication_key: str | None
    fields: tuple[FieldSpec, ...] | None
    files: tuple[str, ...]
    encoding: str | None


@dataclass(frozen=True)
class S3Config:
    """Credentials and endpoint for ``s3://`` entries (all optional: the usual AWS chain)."""

    aws_access_key_id: str | None = None
    aws_secret_access_key: str | None = None
    aws_session_token: str | None = None
    endpoint_url: str | None = None
    region: str | None = None


@dataclass(frozen=True)
class SftpConfig:
    """Credentials for ``sftp://`` entries; a user or port in the URL wins."""

    username: str | None = None
    password: str | None = None
    port: int | None = None
    private_key: str | None = None
    private_key_file: str | None = None
    private_key_passphrase: str | None = None


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
    processes: int
    processes_min_file_mb: int
    s3: S3Config
    sftp: SftpConfig


def _str(value: Any, setting: str, *, required: bool = False) -> str | None:
    if value is None:
        if required:
            raise ConfigError(f"{setting}: required setting is missing")
        return None
    if not isinstance(value, str) or (required and not value):
        raise ConfigError(f"{setting}: expected a non-empty string, got {value!r}")
    return value


def _str_list(value: Any, setting: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{setting}: expected a list of non-empty strings")
    return tuple(value)


def _count(value: Any, setting: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ConfigError(f"{setting}: expected an integer >= 0, got {value!r}")
    return value


def _choice(value: Any, setting: str, choices: tuple[str, ...], default: str) -> str:
    if value is None:
        return default
    if value not in choices:
        raise ConfigError(f"{setting}: expected one of {', '.join(choices)}, got {value!r}")
    return str(value)


def _check_type(value: Any, setting: str, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise ConfigError(
            f'{setting}: unknown type "{value}" (expected one of {", ".join(allowed)})'
        )
    return value


def parse_field(name: str, raw: Any, setting: str) -> FieldSpec:
    """Parse one entry of a ``fields`` mapping (a path string or an object)."""
    if isinstance(raw, str):
        if not raw:
            raise ConfigError(f"{setting}: the path is empty")
        return FieldSpec(name=name, setting=setting, path=raw)
    if not isinstance(raw, dict):
        raise ConfigError(f"{setting}: expected a path string or an object")
    unknown = sorted(set(raw) - _FIELD_KEYS)
    if unknown:
        raise ConfigError(f"{setting}.{unknown[0]}: unknown field option")
    path = _str(raw.get("path"), f"{setting}.path", required=True)
    sub_raw = raw.get("fields")
    sub: tuple[FieldSpec, ...] = ()
    if sub_raw is not None:
        sub = parse_fields(sub_raw, f"{setting}.fields")
    default_type = "object" if sub and raw.get("key") is None else "string"
    type_ = _check_type(raw.get("type", default_type), f"{setting}.type", FIELD_TYPES)
    if type_ == "object" and not sub:
        raise ConfigError(f"{setting}.fields: type object needs fields")
    items = _check_type(raw.get("items", "string"), f"{setting}.items", SCALAR_TYPES)
    decimal_sep = _str(raw.get("decimal_separator"), f"{setting}.decimal_separator") or "."
    thousands = _str(raw.get("thousands_separator"), f"{setting}.thousands_separator")
    if thousands == decimal_sep:
        raise ConfigError(f"{setting}.thousands_separator: equals the decimal separator")
    return FieldSpec(
        name=name,
        setting=setting,
        path=path or ".",
        type=type_,
        items=items,
        format=_str(raw.get("format"), f"{setting}.format"),
        decimal_separator=decimal_sep,
        thousands_separator=thousands,
        key=_str(raw.get("key"), f"{setting}.key"),
        fields=sub,
        true_values=tuple(
            v.lower() for v in _str_list(raw.get("true_values"), f"{setting}.true_values")
        ),
        false_values=tuple(
            v.lower() for v in _str_list(raw.get("false_values"), f"{setting}.false_values")
        ),
    )


def parse_fields(raw: Any, setting: str) -> tuple[FieldSpec, ...]:
    """Parse a ``fields`` mapping of output name to field spec."""
    if not isinstance(raw, dict) or not raw:
        raise ConfigError(f"{setting}: expected a non-empty object of name to field spec")
    return tuple(parse_field(str(name), spec, f"{setting}.{name}") for name, spec in raw.items())


def _namespaces(raw: Any, setting: str) -> Mapping[str, str]:
    if raw is None:
        return types.MappingProxyType({})
    if not isinstance(raw, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v for k, v in raw.items()
    ):
        raise ConfigError(f"{setting}: expected an object of prefix to namespace URI")
    return types.MappingProxyType(dict(raw))


def _parse_stream(raw: Any, index: int, default_files: tuple[str, ...]) -> StreamConfig:
    setting = f"streams[{index}]"
    if not isinstance(raw, dict):
        raise ConfigError(f"{setting}: expected an object")
    name = _str(raw.get("name"), f"{setting}.name", required=True) or ""
    if not name.isidentifier():
        raise ConfigError(f'{setting}.name: "{name}" is not a valid identifier')
    fields = None if raw.get("fields") is None else parse_fields(raw["fields"], f"{setting}.fields")
    key_properties = _str_list(raw.get("key_properties"), f"{setting}.key_properties")
    replication_key = _str(raw.get("replication_key"), f"{setting}.replication_key")
    names = {f.name: f for f in fields} if fields is not None else None
    if names is not None:
        for key in key_properties:
            if key not in names:
                raise ConfigError(f'{setting}.key_properties: "{key}" is not a declared field')
        if replication_key is not None:
            spec = names.get(replication_key)
            if spec is None or spec.type not in SCALAR_TYPES or spec.key is not None:
                raise ConfigError(
                    f'{setting}.replication_key: "{replication_key}" is not a declared scalar field'
                )
    files = _str_list(raw.get("files"), f"{setting}.files") or default_files
    if not files:
        raise ConfigError(f"{setting}.files: no files configured (set files or {setting}.files)")
    return StreamConfig(
        name=name,
        setting=setting,
        record_path=_str(raw.get("record_path"), f"{setting}.record_path", required=True) or "",
        namespaces=_namespaces(raw.get("namespaces"), f"{setting}.namespaces"),
        key_properties=key_properties,
        replication_key=replication_key,
        fields=fields,
        files=files,
        encoding=_str(raw.get("encoding"), f"{setting}.encoding"),
    )


def _start_date(raw: Any) -> datetime.datetime | None:
    if raw is None:
        return None
    try:
        value = datetime.datetime.fromisoformat(str(raw))
    except ValueError:
        raise ConfigError(f"start_date: not an ISO 8601 date or date-time: {raw!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=datetime.UTC)


def _s3(raw: Any) -> S3Config:
    raw = raw or {}
    return S3Config(
        **{k: _str(raw.get(k), f"s3.{k}") for k in S3Config.__dataclass_fields__},
    )


def _sftp(raw: Any) -> SftpConfig:
    raw = raw or {}
    port = raw.get("port")
    if port is not None and (not isinstance(port, int) or not 0 < port < 65536):
        raise ConfigError(f"sftp.port: expected a TCP port number, got {port!r}")
    texts = {
        k: _str(raw.get(k), f"sftp.{k}") for k in SftpConfig.__dataclass_fields__ if k != "port"
    }
    return SftpConfig(port=port, **texts)


def parse_settings(config: Mapping[str, Any]) -> TapSettings:
    """Parse the validated SDK config mapping into typed settings."""
    default_files = _str_list(config.get("files"), "files")
    encoding = _str(config.get("encoding"), "encoding")
    raw_streams = config.get("streams")
    if not isinstance(raw_streams, list) or not raw_streams:
        raise ConfigError("streams: expected a non-empty list of stream definitions")
    streams = tuple(_parse_stream(s, i, default_files) for i, s in enumerate(raw_streams))
    seen: set[str] = set()
    for stream in streams:
        if stream.name in seen:
            raise ConfigError(f'{stream.setting}.name: duplicate stream name "{stream.name}"')
        seen.add(stream.name)
    if encoding:
        streams = tuple(
            s if s.encoding else StreamConfig(**{**s.__dict__, "encoding": encoding})
            for s in streams
        )
    sample = config.get("infer_schema_sample_size", 100)
    if not isinstance(sample, int) or sample < 1:
        raise ConfigError(f"infer_schema_sample_size: expected a positive integer, got {sample!r}")
    processes = _count(config.get("processes", 0), "processes")
    min_mb = _count(config.get("processes_min_file_mb", 32), "processes_min_file_mb")
    return TapSettings(
        streams=streams,
        base_dir=_str(config.get("base_dir"), "base_dir"),
        on_invalid_value=_choice(
            config.get("on_invalid_value"), "on_invalid_value", ON_INVALID_VALUE, "fail"
        ),
        on_malformed_file=_choice(
            config.get("on_malformed_file"), "on_malformed_file", ON_MALFORMED_FILE, "fail"
        ),
        allow_empty_match=bool(config.get("allow_empty_match", False)),
        infer_schema_sample_size=sample,
        start_date=_start_date(config.get("start_date")),
        processes=processes,
        processes_min_file_mb=min_mb,
        s3=_s3(config.get("s3")),
        sftp=_sftp(config.get("sftp")),
    )
