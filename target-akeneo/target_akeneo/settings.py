"""The target's settings: declared once as a JSON schema, parsed once into typed objects.

`CONFIG_SCHEMA` (singer-sdk typing helpers) is the only place where a setting's type,
choices, range, default and description are written; `--about`, meltano.yml and the Hub
files are generated from it. `parse_settings` validates the config against that schema
(messages name the setting and never show a secret's value), fills in its defaults, turns
the result into `Settings`, and checks by hand only what spans several settings.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, fields
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from singer_sdk import typing as th

from target_akeneo.errors import SettingsError
from target_akeneo.fetch import SourcePolicy

DEFAULT_STATE_DIR = ".target-akeneo"


def _str(name: str, description: str, **kwargs: Any) -> th.Property[Any]:
    return th.Property(name, th.StringType, description=description, **kwargs)


def _secret(name: str, description: str) -> th.Property[Any]:
    return th.Property(
        name, th.StringType(min_length=1), required=True, secret=True, description=description
    )


def _bool(name: str, *, default: bool, description: str) -> th.Property[Any]:
    return th.Property(name, th.BooleanType, default=default, description=description)


def _int(name: str, low: int, high: int, *, default: int, description: str) -> th.Property[Any]:
    kind = th.IntegerType(minimum=low, maximum=high)
    return th.Property(name, kind, default=default, description=description)


# Meltano 4.4 cannot pass a `decimal`-kind setting that comes from an environment variable
# (its JSON encoder has no Decimal), so durations are declared as number-or-numeric-string:
# the plugin definitions give them a `string` kind and `parse_settings` converts them.
_NUMBER_TEXT = r"^[0-9]+(\.[0-9]+)?$"
_POSITIVE_TEXT = r"^(?=.*[1-9])[0-9]+(\.[0-9]+)?$"


def _seconds(
    name: str, *, default: float, description: str, positive: bool = False
) -> th.Property[Any]:
    bound = {"exclusiveMinimum": 0} if positive else {"minimum": 0}
    kind = th.CustomType(
        {
            "type": ["number", "string"],
            "pattern": _POSITIVE_TEXT if positive else _NUMBER_TEXT,
            **bound,
        }
    )
    return th.Property(name, kind, default=default, description=description)


CONFIG_SCHEMA = th.PropertiesList(
    th.Property(
        "base_url",
        th.StringType(pattern=r"^https?://\S+$"),
        required=True,
        title="PIM base URL",
        description="Base URL of the Akeneo PIM, e.g. `https://acme.cloud.akeneo.com` "
        "(no `/api` suffix).",
    ),
    _secret("client_id", "Client ID of the Akeneo connection."),
    _secret("secret", "Secret of the Akeneo connection."),
    _secret("username", "API user name of the Akeneo connection."),
    _secret("password", "Password of the connection's API user."),
    th.Property(
        "mapping",
        th.ObjectType(),
        description=(
            "Mapping of record fields onto product properties and attributes, one entry per "
            "stream (see the README's mapping language). Exclusive with `mapping_file`."
        ),
    ),
    _str(
        "mapping_file",
        "Path of a YAML or JSON file holding the mapping. Exclusive with `mapping`.",
    ),
    _str(
        "product_endpoint",
        "`identifier` upserts through /products (by identifier); `uuid` through "
        "/products-uuid (Akeneo 7 and SaaS), looking up uuids by identifier.",
        default="identifier",
        allowed_values=["identifier", "uuid"],
    ),
    _int(
        "batch_size",
        1,
        100,
        default=100,
        description="Products per collection PATCH request (Akeneo's maximum is 100).",
    ),
    _int(
        "max_concurrency",
        1,
        4,
        default=2,
        description="Most requests in flight at once (Akeneo SaaS allows 4 per connection); "
        "fewer after a 429, raised again step by step.",
    ),
    _str(
        "dead_letter_path",
        "Where rejected products go (source record, payload, Akeneo's message and errors): "
        "each run that rejects something writes its own JSON-lines file beside this path, "
        "named with the run's start time (`dead-letter.jsonl` gives "
        "`dead-letter-20261201T230000Z.jsonl`); no file is ever overwritten.",
        default="output/target-akeneo-dead-letter.jsonl",
    ),
    _str(
        "run_report_path",
        "JSON file receiving the run report (created, updated, unchanged, rejected, "
        "requests, retries, duration).",
        default="output/target-akeneo-run-report.json",
    ),
    _str(
        "report_page_path",
        "HTML page each real run writes: its counts, duration and requests, a chart of the "
        "last 30 runs against this PIM (kept in `cache_path`) and its rejections grouped by "
        "cause, each with its dead-letter line (the first 10 of a cause open it in the "
        "page). Unset: beside the JSON run report, `run_report_path` with the suffix `.html`.",
    ),
    _bool(
        "skip_unchanged",
        default=True,
        description="Do not resend a product whose payload equals the one last confirmed by "
        "this PIM from the same stream (content hash kept in `cache_path`).",
    ),
    _str(
        "send",
        "What of a changed product is sent: `changed_values` only the values (by attribute, "
        "locale and channel), categories, family, enabled and parent that differ from what "
        "the PIM last confirmed from the stream (Akeneo keeps what is not sent); "
        "`whole_product` every mapped value whenever anything differs.",
        default="changed_values",
        allowed_values=["changed_values", "whole_product"],
    ),
    _int(
        "retry_rejected_days",
        0,
        3650,
        default=14,
        description="Keep rejected and unmappable products (their source records) in "
        "`cache_path` and send them again at the start of later runs, with the current "
        "mapping, until the PIM confirms them, a newer record arrives, or they were first "
        "rejected this many days ago. `0` turns it off.",
    ),
    _str(
        "cache_path",
        "SQLite file holding the payload hashes for `skip_unchanged`, the rejected products "
        "waiting for a retry, and the uuids the PIM confirmed (`product_endpoint: uuid`).",
        default=f"{DEFAULT_STATE_DIR}/sent-hashes.sqlite",
    ),
    _bool(
        "create_missing_options",
        default=False,
        description="Create unknown option codes of mapped select attributes before sending "
        "products (throttled to 3 requests per second) instead of having them rejected.",
    ),
    _bool(
        "create_missing_categories",
        default=False,
        description="Create the missing categories of mapped category paths under the "
        "mapping's `root` before sending the products that use them (throttled to 3 "
        "requests per second); off: such products are reported and not sent.",
    ),
    _str(
        "category_label_locale",
        "Locale of the labels of categories created from paths.",
        default="en_US",
    ),
    _bool(
        "dry_run",
        default=False,
        description="Validate the mapping and write the payloads to `dry_run_path` without "
        "sending any product.",
    ),
    _str(
        "dry_run_path",
        "JSON-lines file receiving the payloads of a dry run.",
        default="output/target-akeneo-dry-run.jsonl",
    ),
    _str(
        "preview_path",
        "HTML page a dry run writes: each product and model new, changed (current and sent "
        "values side by side), unchanged or refused, with filters; one self-contained file "
        "(opens from disk, no network). Unset: beside the payload file, `dry_run_path` with "
        "the suffix `.html`.",
    ),
    _bool(
        "fail_on_rejected",
        default=False,
        description="Exit non-zero at the end of the run when any product was rejected.",
    ),
    _seconds(
        "request_timeout",
        default=30,
        positive=True,
        description="Seconds to wait for an answer before the request counts as failed "
        "(and is retried).",
    ),
    _int(
        "max_retries",
        0,
        20,
        default=6,
        description="Retries of a request after 408, 429, 5xx, a timeout or a dropped "
        "connection, before its products go to the dead-letter file.",
    ),
    _seconds(
        "backoff_base",
        default=1,
        description="First retry delay in seconds; doubles per try, with jitter.",
    ),
    _seconds(
        "backoff_max",
        default=30,
        description="Longest retry delay in seconds (a longer Retry-After is still honoured).",
    ),
    th.Property(
        "media_sources",
        th.ArrayType(th.StringType),
        default=[],
        description="What image and file values may be fetched from: http(s) URL prefixes "
        "(`https://img.example.com/products/`), host names (https), base folders (`/srv/img`, "
        "`./images`) and fsspec URL prefixes (`s3://bucket/images/`). A listed host may be a "
        "private address. Empty: https to public addresses only, no local paths.",
    ),
    _int(
        "media_max_mb",
        1,
        1000,
        default=20,
        description="Largest media file fetched, in MB (also the attribute's own limit); "
        "a longer download is cut off.",
    ),
    _int(
        "media_concurrency",
        1,
        16,
        default=4,
        description="Media files fetched at once (uploads still count in `max_concurrency`).",
    ),
    _seconds(
        "media_connect_timeout",
        default=5,
        positive=True,
        description="Seconds to wait for a media server to accept the connection.",
    ),
    _seconds(
        "media_read_timeout",
        default=30,
        positive=True,
        description="Seconds to wait for each part of a media server's answer.",
    ),
    _str(
        "missing_products",
        "On ACTIVATE_VERSION (a full export ended): what happens to the products confirmed "
        "before for the stream and not received in this version.",
        default="ignore",
        allowed_values=["ignore", "disable", "delete"],
    ),
    _seconds(
        "missing_products_max_ratio",
        default=0.1,
        description="Largest share (0 to 1) of a stream's products that may go missing in one "
        "version; above it nothing is changed and the run fails (a truncated export).",
    ),
    _bool(
        "validate_records",
        default=False,
        description="Validate records against the stream schema first (off by default: the "
        "mapping checks and shapes every field it uses, and validation costs CPU per record).",
    ),
).to_dict()


@dataclass(frozen=True)
class Credentials:
    """The four credentials of an Akeneo connection; `repr` hides them."""

    client_id: str
    secret: str
    username: str
    password: str

    def __repr__(self) -> str:
        return "Credentials(<hidden>)"


@dataclass(frozen=True)
class Settings:
    """The validated settings; every field but the derived ones is a schema property."""

    base_url: str
    credentials: Credentials
    mapping: Mapping[str, Any]
    mapping_source: str
    product_endpoint: str
    batch_size: int
    max_concurrency: int
    dead_letter_path: Path
    run_report_path: Path
    report_page_path: Path
    skip_unchanged: bool
    send: str
    retry_rejected_days: int
    cache_path: Path
    create_missing_options: bool
    create_missing_categories: bool
    category_label_locale: str
    dry_run: bool
    dry_run_path: Path
    preview_path: Path
    fail_on_rejected: bool
    request_timeout: float
    max_retries: int
    backoff_base: float
    backoff_max: float
    media_sources: list[str]
    media_max_mb: int
    media_concurrency: int
    media_connect_timeout: float
    media_read_timeout: float
    missing_products: str
    missing_products_max_ratio: float
    validate_records: bool


# Settings fields that do not come from one schema property of the same name.
DERIVED_FIELDS = frozenset({"credentials", "mapping", "mapping_source"})


def _describe(error: jsonschema.ValidationError, secret: bool) -> str:
    """One line naming the setting; the value is shown only for settings that are not secret."""
    name = ".".join(str(part) for part in error.absolute_path)
    got = "" if secret else f", got {error.instance!r}"
    schema, rule = error.schema, error.validator
    if rule == "required":
        missing = str(error.message).split("'")[1]
        return f"setting '{missing}' is required"
    if rule == "enum":
        choices = ", ".join(repr(choice) for choice in schema.get("enum", ()))
        return f"setting '{name}' must be one of {choices}{got}"
    if rule in ("minimum", "maximum", "exclusiveMinimum") and "maximum" in schema:
        low, high = schema.get("minimum"), schema["maximum"]
        return f"setting '{name}' must be from {low} to {high}{got}"
    is_duration = "pattern" in schema and "number" in schema.get("type", ())
    if rule in ("minimum", "exclusiveMinimum") or (rule in ("pattern", "type") and is_duration):
        bound = "> 0" if "exclusiveMinimum" in schema else ">= 0"
        return f"setting '{name}' must be a number {bound}{got}"
    if rule == "minLength":
        return f"setting '{name}' must not be empty"
    if rule == "pattern" and name == "base_url":
        return f"setting 'base_url' must start with http:// or https://{got}"
    if rule == "type":
        kinds = schema.get("type")
        kinds = [kind for kind in kinds if kind != "null"] if isinstance(kinds, list) else [kinds]
        wanted = " or ".join(str(kind) for kind in kinds)
        return f"setting '{name}' must be of type {wanted}{got}"
    return f"setting '{name}' is invalid: {error.message}" if not secret else f"setting '{name}'"


def _schema_errors(config: Mapping[str, Any], schema: Mapping[str, Any]) -> list[str]:
    validator = jsonschema.validators.validator_for(schema)(schema)
    properties = schema.get("properties", {})
    messages = []
    # An explicit null means "not set", as when the setting is absent.
    given = {name: value for name, value in config.items() if value is not None}
    for error in sorted(validator.iter_errors(given), key=lambda e: [str(part) for part in e.path]):
        top = str(error.absolute_path[0]) if error.absolute_path else ""
        messages.append(_describe(error, bool(properties.get(top, {}).get("secret"))))
    return messages


def load_mapping_file(path: Path) -> Mapping[str, Any]:
    """Read a YAML or JSON mapping file (JSON is valid YAML, but its errors read better)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SettingsError(f"setting 'mapping_file': cannot read {path}: {exc.strerror}") from exc
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        where = ""
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            where = f" line {mark.line + 1}"
        elif isinstance(exc, json.JSONDecodeError):
            where = f" line {exc.lineno}"
        raise SettingsError(
            f"setting 'mapping_file': {path}{where} is not valid YAML/JSON"
        ) from exc
    if not isinstance(data, Mapping):
        raise SettingsError(f"setting 'mapping_file': {path} must hold an object of streams")
    return data


def _mapping(config: Mapping[str, Any]) -> tuple[Mapping[str, Any], str]:
    inline, file_name = config.get("mapping"), config.get("mapping_file")
    if inline and file_name:
        raise SettingsError("settings 'mapping' and 'mapping_file' are exclusive: set only one")
    if inline:
        return inline, "mapping"
    if file_name:
        return load_mapping_file(Path(file_name)), str(file_name)
    raise SettingsError("one of the settings 'mapping' or 'mapping_file' is required")


def _convert(kind: Any, value: Any) -> Any:
    if kind in (Path, "Path"):
        return Path(value)
    if kind in (float, "float"):
        return float(Decimal(str(value)))
    return value


def parse_settings(
    config: Mapping[str, Any], schema: Mapping[str, Any] = CONFIG_SCHEMA
) -> Settings:
    """Validate the Singer config against `schema` into `Settings`; errors name the setting.

    `schema` is the target's full config schema (with singer-sdk's built-in settings).
    """
    problems = _schema_errors(config, schema)
    if problems:
        raise SettingsError(*problems)
    properties = schema["properties"]
    values = {
        name: properties[name].get("default") if config.get(name) is None else config[name]
        for name in properties
    }
    for page, beside in (("report_page_path", "run_report_path"), ("preview_path", "dry_run_path")):
        if values[page] is None:
            values[page] = str(Path(str(values[beside])).with_suffix(".html"))
    mapping, source = _mapping(config)
    typed = {
        field.name: _convert(field.type, values[field.name])
        for field in fields(Settings)
        if field.name not in DERIVED_FIELDS
    }
    typed["base_url"] = str(typed["base_url"]).rstrip("/")
    settings = Settings(
        credentials=Credentials(
            **{name: str(values[name]) for name in ("client_id", "secret", "username", "password")}
        ),
        mapping=mapping,
        mapping_source=source,
        **typed,
    )
    try:
        SourcePolicy.parse(settings.media_sources)
    except ValueError as exc:
        raise SettingsError(f"setting 'media_sources': {exc}") from None
    if settings.missing_products_max_ratio > 1:
        raise SettingsError("setting 'missing_products_max_ratio' must be from 0 to 1")
    if settings.backoff_max < settings.backoff_base:
        raise SettingsError("setting 'backoff_max' must be >= 'backoff_base'")
    return settings
