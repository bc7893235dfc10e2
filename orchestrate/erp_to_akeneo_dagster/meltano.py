"""The Meltano project seen from Dagster: its jobs and schedules, and one `meltano run`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from erp_to_akeneo_dagster.config import ConfigError, ExportsConfig

TAIL_LINES = 40
SYS_DIR_VAR = "MELTANO_SYS_DIR_ROOT"
DATABASE_VAR = "MELTANO_DATABASE_URI"
# Per run, not shared: what `meltano run` writes for this run only.
PER_RUN = ("run", "logs")


@dataclass(frozen=True)
class MeltanoJob:
    name: str
    tasks: tuple[str, ...]


@dataclass(frozen=True)
class MeltanoSchedule:
    name: str
    job: str
    cron: str


@dataclass(frozen=True)
class RunResult:
    returncode: int
    tail: str


def executable(config: ExportsConfig) -> str:
    """`meltano.executable`: a path, else the one beside this Python (a venv), else on PATH."""
    name = config.meltano
    if os.sep in name or (os.altsep and os.altsep in name):
        return str((config.source.parent / name).resolve())
    beside = Path(sys.executable).parent / name
    if beside.is_file():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise ConfigError(f"{config.source}: meltano.executable: {name!r} is not installed")
    return found


# Meltano's cron aliases (`meltano schedule list` shows them as `cron_interval`); `@once` and
# `@manual` schedules have no cron and are not scheduled.
CRON_ALIASES = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
}


def _project_files(project_dir: Path) -> list[dict[str, Any]]:
    """meltano.yml and the files its `include_paths` name, as Meltano merges them.

    Read directly rather than through `meltano job list`: loading the definitions then starts
    no Meltano (seconds per Dagster process) and touches no system database.
    """
    main = project_dir / "meltano.yml"
    documents = [_yaml(main)]
    for pattern in documents[0].get("include_paths") or []:
        documents += [_yaml(path) for path in sorted(project_dir.glob(pattern))]
    return documents


def _yaml(path: Path) -> dict[str, Any]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot be read as YAML ({type(exc).__name__})") from None
    if not isinstance(document, dict):
        raise ConfigError(f"{path}: not a Meltano project file (no mapping at the top)")
    return document


def _task(task: object) -> str:
    return " ".join(str(block) for block in task) if isinstance(task, list) else str(task)


def project_jobs(config: ExportsConfig) -> list[MeltanoJob]:
    """The project's jobs; each task as `meltano job list` shows it (blocks joined by spaces)."""
    jobs = []
    for document in _project_files(config.project_dir):
        for job in document.get("jobs") or []:
            tasks = job.get("tasks")
            tasks = tasks if isinstance(tasks, list) else [tasks]
            jobs.append(MeltanoJob(name=str(job["name"]), tasks=tuple(_task(t) for t in tasks)))
    return jobs


def project_schedules(config: ExportsConfig) -> list[MeltanoSchedule]:
    """Job schedules with a cron interval (legacy extractor/loader schedules name no job)."""
    schedules = []
    for document in _project_files(config.project_dir):
        for item in document.get("schedules") or []:
            interval = str(item.get("interval", ""))
            cron = CRON_ALIASES.get(interval, interval)
            if "job" in item and cron and not cron.startswith("@"):
                schedules.append(MeltanoSchedule(name=item["name"], job=item["job"], cron=cron))
    return schedules


def run_command(config: ExportsConfig, job: str, key: str) -> list[str]:
    """`meltano run` of one job for one export, with the export's own state id suffix."""
    command = [executable(config)]
    if config.environment is not None:
        command.append(f"--environment={config.environment}")
    return [*command, "run", f"--state-id-suffix={key}", job]


@contextmanager
def run_sys_dir(
    config: ExportsConfig, key: str, env: Mapping[str, str]
) -> Iterator[dict[str, str]]:
    """A `.meltano` of the run's own, sharing the installed plugins and the system database.

    Meltano 4.4 writes a run's catalog and state files to `.meltano/run/<plugin>/` under fixed
    names, so two runs of one plugin at the same time would take each other's files. Each run
    gets a directory whose entries are links to the project's `.meltano` (plugin venvs, state
    files), except `run/` and `logs/`; the system database stays the project's one.
    """
    shared = Path(env.get(SYS_DIR_VAR) or config.project_dir / ".meltano")
    if not shared.is_absolute():
        shared = config.project_dir / shared
    shared.mkdir(parents=True, exist_ok=True)
    runs = shared / "dagster-runs"
    runs.mkdir(exist_ok=True)
    own = Path(tempfile.mkdtemp(prefix=f"{key}-", dir=runs))
    try:
        for entry in shared.iterdir():
            if entry.name not in (*PER_RUN, runs.name) and not entry.name.startswith("meltano.db"):
                (own / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
        extra = {SYS_DIR_VAR: str(own)}
        sets_database = "database_uri" in _yaml(config.project_dir / "meltano.yml")
        if DATABASE_VAR not in env and not sets_database:
            extra[DATABASE_VAR] = f"sqlite:///{shared / 'meltano.db'}"
        yield extra
    finally:
        shutil.rmtree(own, ignore_errors=True)


def run_job(
    config: ExportsConfig, job: str, key: str, env: Mapping[str, str], echo: Callable[[str], None]
) -> RunResult:
    """Run and stream Meltano's output line by line to `echo`; keep the tail for errors."""
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    with (
        run_sys_dir(config, key, env) as sys_env,
        subprocess.Popen(
            run_command(config, job, key),
            cwd=config.project_dir,
            env={**env, **sys_env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        ) as process,
    ):
        assert process.stdout is not None
        for line in process.stdout:
            text = line.rstrip("\n")
            tail.append(text)
            echo(text)
        returncode = process.wait()
    return RunResult(returncode=returncode, tail="\n".join(tail))
