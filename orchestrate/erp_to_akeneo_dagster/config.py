"""The exports file: which exports run as partitions, and the PIM connection they share.

Parsed once into frozen objects; every error is one line naming the file and the setting.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

EXPORTS_ENV = "ERP_TO_AKENEO_EXPORTS"
DEFAULT_EXPORTS = "exports.yml"
# Part of a Meltano state id (`env:tap-to-target:<key>`) and of file names via `{export}`.
PARTITION_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Set per run by the orchestration itself: an export must not override them.
FILES_VAR = "TAP_ERP_XML_FILES"
CONCURRENCY_VAR = "TARGET_AKENEO_MAX_CONCURRENCY"
RESERVED_VARS = (FILES_VAR, CONCURRENCY_VAR, "MELTANO_RUN_STATE_ID_SUFFIX")
TOP_KEYS = ("meltano", "pim", "env", "exports")


class ConfigError(Exception):
    """The exports file is missing or invalid; the message names the setting."""


@dataclass(frozen=True)
class Export:
    """One export: a partition key, its files, and environment variables of its runs only."""

    key: str
    files: tuple[str, ...]
    env: Mapping[str, str]


@dataclass(frozen=True)
class ExportsConfig:
    """Everything the Dagster definitions are built from."""

    source: Path
    project_dir: Path
    meltano: str
    environment: str | None
    pool: str
    connection_limit: int
    runs_at_once: int
    env: Mapping[str, str]
    exports: tuple[Export, ...]

    @property
    def run_concurrency(self) -> int:
        """The target's `max_concurrency` in each run: the pool's runs together stay in limit."""
        return self.connection_limit // self.runs_at_once

    @property
    def keys(self) -> list[str]:
        return [export.key for export in self.exports]

    def export(self, key: str) -> Export:
        for export in self.exports:
            if export.key == key:
                return export
        raise ConfigError(f"{self.source}: no export {key!r} (exports are {', '.join(self.keys)})")

    def run_env(self, key: str) -> dict[str, str]:
        """Environment variables of one export's run, on top of the process environment."""
        export = self.export(key)
        env = {name: value.replace("{export}", key) for name, value in self.env.items()}
        env.update(export.env)
        env[FILES_VAR] = json.dumps(list(export.files))
        env[CONCURRENCY_VAR] = str(self.run_concurrency)
        return env


def exports_path() -> Path:
    """`$ERP_TO_AKENEO_EXPORTS`, else `exports.yml` in the working directory."""
    return Path(os.environ.get(EXPORTS_ENV) or DEFAULT_EXPORTS)


class _Reader:
    """Typed access to the parsed YAML; errors carry the file and the dotted setting."""

    def __init__(self, source: Path) -> None:
        self.source = source

    def fail(self, setting: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.source}: {setting}: {problem}")

    def mapping(self, value: object, setting: str) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise self.fail(setting, "needs a mapping of names to values")
        return value

    def known(self, value: dict[str, Any], setting: str, keys: tuple[str, ...]) -> None:
        for key in value:
            if key not in keys:
                raise self.fail(
                    f"{setting}.{key}" if setting else key,
                    f"unknown setting (known: {', '.join(keys)})",
                )

    def text(self, value: object, setting: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(setting, "needs a non-empty text")
        return value

    def count(self, value: object, setting: str, default: int) -> int:
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise self.fail(setting, f"needs a whole number of at least 1, got {value!r}")
        return value

    def env(self, value: object, setting: str) -> Mapping[str, str]:
        env: dict[str, str] = {}
        for name, item in self.mapping(value, setting).items():
            if not ENV_NAME.fullmatch(name):
                raise self.fail(f"{setting}.{name}", "is not an environment variable name")
            if name in RESERVED_VARS:
                raise self.fail(f"{setting}.{name}", "is set by the orchestration for each run")
            if isinstance(item, bool) or not isinstance(item, str | int | float):
                raise self.fail(f"{setting}.{name}", "needs a text or a number")
            env[name] = str(item)
        return MappingProxyType(env)

    def files(self, value: object, setting: str) -> tuple[str, ...]:
        items = [value] if isinstance(value, str) else value
        if (
            not isinstance(items, list)
            or not items
            or not all(isinstance(item, str) and item.strip() for item in items)
        ):
            raise self.fail(setting, "needs a path, pattern or URL, or a list of them")
        return tuple(items)


def load_config(path: str | Path | None = None) -> ExportsConfig:
    """Read and check the exports file (default: `exports_path()`)."""
    source = Path(path) if path is not None else exports_path()
    try:
        raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"{source}: no exports file (set {EXPORTS_ENV} or run from its folder)"
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{source}: not valid YAML{where}") from None
    read = _Reader(source)
    top = read.mapping(raw, "the file")
    read.known(top, "", TOP_KEYS)

    meltano = read.mapping(top.get("meltano"), "meltano")
    read.known(meltano, "meltano", ("project_dir", "environment", "executable"))
    project_dir = (
        source.parent / read.text(meltano.get("project_dir", "."), "meltano.project_dir")
    ).resolve()
    if not (project_dir / "meltano.yml").is_file():
        raise read.fail("meltano.project_dir", f"{project_dir} holds no meltano.yml")
    environment = meltano.get("environment")
    if environment is not None:
        environment = read.text(environment, "meltano.environment")

    pim = read.mapping(top.get("pim"), "pim")
    read.known(pim, "pim", ("pool", "connection_limit", "runs_at_once"))
    pool = read.text(pim.get("pool", "akeneo_pim"), "pim.pool")
    connection_limit = read.count(pim.get("connection_limit"), "pim.connection_limit", 4)
    runs_at_once = read.count(pim.get("runs_at_once"), "pim.runs_at_once", 1)
    if runs_at_once > connection_limit:
        raise read.fail(
            "pim.runs_at_once",
            f"{runs_at_once} runs cannot share {connection_limit} concurrent calls "
            "(each run needs at least one)",
        )

    exports_raw = read.mapping(top.get("exports"), "exports")
    if not exports_raw:
        raise read.fail("exports", "needs at least one export")
    exports = []
    for key, entry in exports_raw.items():
        setting = f"exports.{key}"
        if not PARTITION_KEY.fullmatch(key):
            raise read.fail(setting, "a key needs letters, digits, '-', '_' or '.' only")
        body = read.mapping(entry, setting)
        read.known(body, setting, ("files", "env"))
        exports.append(
            Export(
                key=key,
                files=read.files(body.get("files"), f"{setting}.files"),
                env=read.env(body.get("env"), f"{setting}.env"),
            )
        )
    return ExportsConfig(
        source=source,
        project_dir=project_dir,
        meltano=read.text(meltano.get("executable", "meltano"), "meltano.executable"),
        environment=environment,
        pool=pool,
        connection_limit=connection_limit,
        runs_at_once=runs_at_once,
        env=read.env(top.get("env"), "env"),
        exports=tuple(exports),
    )
