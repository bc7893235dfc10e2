"""Target settings, parsed once from the Singer config into a frozen dataclass."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from target_akeneo.errors import SettingsError

MAX_BATCH_SIZE = 100
MAX_CONCURRENCY = 4
DEFAULT_STATE_DIR = ".target-akeneo"
DEFAULT_DEAD_LETTER_PATH = "output/target-akeneo-dead-letter.jsonl"
DEFAULT_RUN_REPORT_PATH = "output/target-akeneo-run-report.json"
DEFAULT_DRY_RUN_PATH = "output/target-akeneo-dry-run.jsonl"
DEFAULT_CACHE_PATH = f"{DEFAULT_STATE_DIR}/sent-hashes.sqlite"


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
    """Everything the target needs, validated."""

    base_url: str
    credentials: Credentials
    mapping: Mapping[str, Any]
    mapping_source: str
    product_endpoint: str
    batch_size: int
    max_concurrency: int
    dead_letter_path: Path
    run_report_path: Path
    skip_unchanged: bool
    cache_path: Path
    create_missing_options: bool
    dry_run: bool
    dry_run_path: Path
    fail_on_rejected: bool
    request_timeout: float
    max_retries: int
    backoff_base: float
    backoff_max: float


def _require_str(config: Mapping[str, Any], name: str) -> str:
    value = config.get(name)
    if not isinstance(value, str) or not value.strip():
        raise SettingsError(f"setting '{name}' is required and must be a non-empty string")
    return value


def _int_in(config: Mapping[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = config.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SettingsError(
            f"setting '{name}' must be an integer from {low} to {high}, got {value!r}"
        )
    return value


def _positive_float(config: Mapping[str, Any], name: str, default: float) -> float:
    value = config.get(name, default)
    if value is None:
        return default
    if isinstance(value, str):
        try:
            value = Decimal(value)
        except ArithmeticError:
            raise SettingsError(f"setting '{name}' must be a number >= 0, got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal) or value < 0:
        raise SettingsError(f"setting '{name}' must be a number >= 0, got {value!r}")
    return float(value)


def _bool(config: Mapping[str, Any], name: str, default: bool) -> bool:
    value = config.get(name, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise SettingsError(f"setting '{name}' must be true or false, got {value!r}")
    return value


def _path(config: Mapping[str, Any], name: str, default: str) -> Path:
    value = config.get(name) or default
    if not isinstance(value, str):
        raise SettingsError(f"setting '{name}' must be a file path, got {value!r}")
    return Path(value)


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
    inline = config.get("mapping")
    file_name = config.get("mapping_file")
    if inline and file_name:
        raise SettingsError("settings 'mapping' and 'mapping_file' are exclusive: set only one")
    if inline:
        if not isinstance(inline, Mapping):
            raise SettingsError("setting 'mapping' must be an object of streams")
        return inline, "mapping"
    if file_name:
        if not isinstance(file_name, str):
            raise SettingsError("setting 'mapping_file' must be a file path")
        return load_mapping_file(Path(file_name)), str(file_name)
    raise SettingsError("one of the settings 'mapping' or 'mapping_file' is required")


def parse_settings(config: Mapping[str, Any]) -> Settings:
    """Validate the Singer config into `Settings`; errors name the setting."""
    base_url = _require_str(config, "base_url").rstrip("/")
    if not base_url.startswith(("http://", "https://")):
        raise SettingsError(
            f"setting 'base_url' must start with http:// or https://, got {base_url}"
        )
    credentials = Credentials(
        client_id=_require_str(config, "client_id"),
        secret=_require_str(config, "secret"),
        username=_require_str(config, "username"),
        password=_require_str(config, "password"),
    )
    endpoint = config.get("product_endpoint") or "identifier"
    if endpoint not in ("identifier", "uuid"):
        raise SettingsError(
            f"setting 'product_endpoint' must be 'identifier' or 'uuid', got {endpoint!r}"
        )
    mapping, source = _mapping(config)
    backoff_base = _positive_float(config, "backoff_base", 1.0)
    backoff_max = _positive_float(config, "backoff_max", 30.0)
    if backoff_max < backoff_base:
        raise SettingsError("setting 'backoff_max' must be >= 'backoff_base'")
    timeout = _positive_float(config, "request_timeout", 30.0)
    if timeout <= 0:
        raise SettingsError("setting 'request_timeout' must be > 0")
    return Settings(
        base_url=base_url,
        credentials=credentials,
        mapping=mapping,
        mapping_source=source,
        product_endpoint=str(endpoint),
        batch_size=_int_in(config, "batch_size", MAX_BATCH_SIZE, 1, MAX_BATCH_SIZE),
        max_concurrency=_int_in(config, "max_concurrency", 2, 1, MAX_CONCURRENCY),
        dead_letter_path=_path(config, "dead_letter_path", DEFAULT_DEAD_LETTER_PATH),
        run_report_path=_path(config, "run_report_path", DEFAULT_RUN_REPORT_PATH),
        skip_unchanged=_bool(config, "skip_unchanged", default=True),
        cache_path=_path(config, "cache_path", DEFAULT_CACHE_PATH),
        create_missing_options=_bool(config, "create_missing_options", default=False),
        dry_run=_bool(config, "dry_run", default=False),
        dry_run_path=_path(config, "dry_run_path", DEFAULT_DRY_RUN_PATH),
        fail_on_rejected=_bool(config, "fail_on_rejected", default=False),
        request_timeout=timeout,
        max_retries=_int_in(config, "max_retries", 6, 0, 20),
        backoff_base=backoff_base,
        backoff_max=backoff_max,
    )
