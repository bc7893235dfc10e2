"""Dagster definitions from the Meltano project and the exports file.

Each Meltano job becomes a Dagster job partitioned by export; each run is one `meltano run` of
that job for one export (its files, its state id suffix, its env), inside the concurrency pool
of the PIM connection. Each Meltano job schedule becomes a schedule asking for one run per
export; the pool holds back the runs beyond its limit.
"""

# No `from __future__ import annotations`: Dagster reads the `context` annotation at runtime.
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import dagster as dg

from erp_to_akeneo_dagster.config import ConfigError, ExportsConfig
from erp_to_akeneo_dagster.meltano import (
    MeltanoJob,
    MeltanoSchedule,
    project_jobs,
    project_schedules,
    run_job,
)

REPORT_VAR = "TARGET_AKENEO_RUN_REPORT_PATH"


def dagster_name(name: str) -> str:
    """Meltano allows `-` in names; Dagster names are letters, digits and `_`."""
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def pool_limit(instance: dg.DagsterInstance, pool: str) -> int | None:
    """The instance's limit of `pool` (set for it, else the default limit); None if unlimited."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return None
    for limit in storage.get_pool_limits():
        if limit.name == pool:
            return int(limit.limit)
    default: int | None = storage.get_pool_config().default_pool_limit
    return default


def check_pool(instance: dg.DagsterInstance, config: ExportsConfig) -> None:
    """Refuse to run when the instance would let more runs share the PIM than planned.

    Each run sends with `connection_limit // runs_at_once` calls in flight: that sum stays
    within the connection's limit only while the pool admits at most `runs_at_once` runs.
    """
    limit = pool_limit(instance, config.pool)
    if limit is not None and limit <= config.runs_at_once:
        return
    found = "no limit" if limit is None else f"a limit of {limit}"
    raise dg.Failure(
        f"pool {config.pool} has {found} on this Dagster instance, but {config.source} plans "
        f"pim.runs_at_once = {config.runs_at_once}: set `concurrency: pools: default_limit: "
        f"{config.runs_at_once}` in dagster.yaml or run `dagster instance concurrency set "
        f"{config.pool} {config.runs_at_once}`"
    )


def run_report(env: dict[str, str], project_dir: Path) -> dict[str, dg.MetadataValue]:
    """The target's counts from its run report, when the run's env names the report file."""
    name = env.get(REPORT_VAR)
    path = project_dir / name if name else None
    if path is None or not path.is_file():
        return {}
    report: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    metadata: dict[str, dg.MetadataValue] = {"run report": dg.MetadataValue.path(str(path))}
    for key, value in report.items():
        if isinstance(value, bool):
            continue
        if isinstance(value, int):
            metadata[key] = dg.MetadataValue.int(value)
        elif isinstance(value, float):
            metadata[key] = dg.MetadataValue.float(value)
    return metadata


def _echo(line: str) -> None:
    # Into the step's captured stderr (the UI's compute logs), not one event per line.
    sys.stderr.write(line + "\n")


def partitioned_job(
    config: ExportsConfig, job: MeltanoJob, partitions: dg.PartitionsDefinition
) -> dg.JobDefinition:
    name = dagster_name(job.name)
    tasks = "; ".join(job.tasks)

    @dg.op(
        name=f"meltano_run_{name}",
        pool=config.pool,
        description=f"`meltano run {job.name}` ({tasks}) for one export",
    )
    def meltano_run(context: dg.OpExecutionContext) -> None:
        key = context.partition_key
        check_pool(context.instance, config)
        env = {**os.environ, **config.run_env(key)}
        context.log.info(
            f"meltano run {job.name} for export {key} with {config.run_concurrency} "
            f"of the PIM connection's {config.connection_limit} concurrent calls"
        )
        result = run_job(config, job.name, key, env, _echo)
        if result.returncode != 0:
            last = result.tail.splitlines()[-1:] or ["no output"]
            raise dg.Failure(
                f"meltano run {job.name} for export {key} exited with {result.returncode}: "
                f"{last[0]}",
                metadata={"meltano output (tail)": dg.MetadataValue.text(result.tail)},
            )
        context.add_output_metadata(run_report(env, config.project_dir))

    @dg.job(
        name=name,
        partitions_def=partitions,
        description=f"Meltano job {job.name} ({tasks}), one partition per export",
        tags={"meltano/job": job.name},
        # One step that waits on a subprocess: no step process of its own needed.
        executor_def=dg.in_process_executor,
    )
    def dagster_job() -> None:
        meltano_run()

    return dagster_job


def export_schedule(
    config: ExportsConfig, schedule: MeltanoSchedule, job: dg.JobDefinition
) -> dg.ScheduleDefinition:
    @dg.schedule(
        name=dagster_name(schedule.name),
        cron_schedule=schedule.cron,
        job=job,
        execution_timezone="UTC",
        description=f"Meltano schedule {schedule.name}: every export of job {schedule.job}",
    )
    def every_export(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest]:
        tick = context.scheduled_execution_time
        stamp = tick.isoformat() if tick is not None else "now"
        return [dg.RunRequest(run_key=f"{key}@{stamp}", partition_key=key) for key in config.keys]

    return every_export


def build_definitions(config: ExportsConfig) -> dg.Definitions:
    partitions = dg.StaticPartitionsDefinition(config.keys)
    jobs = {job.name: partitioned_job(config, job, partitions) for job in project_jobs(config)}
    schedules = []
    for schedule in project_schedules(config):
        if schedule.job not in jobs:
            raise ConfigError(f"Meltano schedule {schedule.name} names no job of the project")
        schedules.append(export_schedule(config, schedule, jobs[schedule.job]))
    return dg.Definitions(jobs=list(jobs.values()), schedules=schedules)
