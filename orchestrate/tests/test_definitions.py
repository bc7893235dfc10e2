"""The Dagster definitions: what the Meltano project becomes, and how runs share the pool.

Against a stand-in `meltano` (fake_meltano.py), which records each run and whether another run
was going on at the same time.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import yaml

from erp_to_akeneo_dagster import build_definitions, load_config
from erp_to_akeneo_dagster.meltano import project_jobs, project_schedules
from orchestrate.tests.dagster_support import execute_at_once, instance_home
from tests.support import MELTANO, ROOT, MeltanoProject, base_env

FAKE = Path(__file__).with_name("fake_meltano.py")


def fake_project(tmp_path: Path, runs_at_once: int) -> Path:
    """An exports file for the repository's project, run by the stand-in meltano."""
    executable = tmp_path / "meltano"
    executable.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE}" "$@"\n', encoding="utf-8")
    executable.chmod(0o755)
    (tmp_path / "runs").mkdir()
    config = {
        "meltano": {"project_dir": str(ROOT), "executable": str(executable)},
        "pim": {"connection_limit": 4, "runs_at_once": runs_at_once},
        "exports": {"north": {"files": "north/*.xml"}, "south": {"files": "south/*.xml"}},
    }
    path = tmp_path / "exports.yml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def recorded(tmp_path: Path, key: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((tmp_path / "runs" / f"{key}.json").read_text())
    return data


def test_meltano_jobs_and_schedules_become_partitioned_jobs_and_schedules(tmp_path: Path) -> None:
    """Every job and schedule the real `meltano` lists; every export a partition; the pool."""
    meltano = MeltanoProject(tmp_path, {"MELTANO_DATABASE_URI": f"sqlite:///{tmp_path / 'm.db'}"})
    listed_jobs = json.loads(meltano.run("job", "list", "--format=json").stdout)["jobs"]
    listed = json.loads(meltano.run("schedule", "list", "--format=json").stdout)["schedules"]
    config = load_config(fake_project(tmp_path, runs_at_once=2))

    defs = build_definitions(config)

    jobs = defs.resolve_all_job_defs()
    assert sorted(job.name for job in jobs) == sorted(
        job["job_name"].replace("-", "_") for job in listed_jobs
    )
    for job in jobs:
        assert job.partitions_def is not None
        assert job.partitions_def.get_partition_keys() == ["north", "south"]
        assert [node.definition.pool for node in job.nodes] == ["akeneo_pim"]
    schedules = list(defs.schedules or [])
    assert len(schedules) == len(listed["job"])
    for meltano_schedule in listed["job"]:
        schedule = defs.resolve_schedule_def(meltano_schedule["name"].replace("-", "_"))
        assert schedule.cron_schedule == meltano_schedule["cron_interval"]
        assert schedule.job_name == meltano_schedule["job"]["name"].replace("-", "_")
        tick = dt.datetime(2026, 12, 2, tzinfo=dt.UTC)
        context = dg.build_schedule_context(
            scheduled_execution_time=tick, repository_def=defs.get_repository_def()
        )
        requests = schedule.evaluate_tick(context).run_requests or []
        assert [request.partition_key for request in requests] == ["north", "south"]


def test_runs_beyond_the_pool_limit_wait_and_each_has_its_own_state_and_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pool of 1: two partitions started together never run at the same time."""
    home = instance_home(tmp_path, monkeypatch, pool_limit=1)
    env = {
        **base_env(),
        "DAGSTER_HOME": str(home),
        "ERP_TO_AKENEO_EXPORTS": str(fake_project(tmp_path, runs_at_once=1)),
        "FAKE_MELTANO_DIR": str(tmp_path / "runs"),
        "FAKE_MELTANO_WAIT": "3",  # long enough for the other run to start, if it could
    }

    results = execute_at_once("erp_to_pim", ["north", "south"], env, tmp_path)

    assert [r.returncode for r in results.values()] == [0, 0], results
    north, south = recorded(tmp_path, "north"), recorded(tmp_path, "south")
    assert north["met"] == south["met"] == []
    assert north["args"] == ["run", "--state-id-suffix=north", "erp-to-pim"]
    assert north["env"]["TAP_ERP_XML_FILES"] == '["north/*.xml"]'
    assert south["env"]["TARGET_AKENEO_MAX_CONCURRENCY"] == "4"
    # Each run its own .meltano: no run/ shared, the installed plugins linked.
    assert north["env"]["MELTANO_SYS_DIR_ROOT"] != south["env"]["MELTANO_SYS_DIR_ROOT"]
    assert "run" not in north["sys_dir"]
    assert "extractors" in north["sys_dir"]
    with dg.DagsterInstance.get() as instance:
        events = [
            record.event_log_entry.user_message
            for run in instance.get_run_records()
            for record in instance.get_records_for_run(run.dagster_run.run_id).records
        ]
    assert any("blocked by limit for pool akeneo_pim" in message for message in events)


def test_a_run_refuses_an_instance_that_allows_more_runs_than_planned(tmp_path: Path) -> None:
    config = load_config(fake_project(tmp_path, runs_at_once=2))
    job = build_definitions(config).resolve_job_def("erp_to_pim")

    with dg.DagsterInstance.ephemeral() as instance:  # no pool limits at all
        result = job.execute_in_process(
            partition_key="north", instance=instance, raise_on_error=False
        )

    assert not result.success
    failure = result.failure_data_for_node("meltano_run_erp_to_pim")
    assert failure is not None
    assert failure.error is not None
    assert "pool akeneo_pim has no limit on this Dagster instance" in failure.error.message
    assert "dagster instance concurrency set akeneo_pim 2" in failure.error.message
    assert not (tmp_path / "runs" / "north.json").exists()


def test_jobs_and_schedules_are_read_as_meltano_reads_them(tmp_path: Path) -> None:
    """`include_paths`, list tasks, cron aliases, `@once` and elt schedules, as Meltano lists."""
    (tmp_path / "meltano.yml").write_text(
        yaml.safe_dump(
            {
                "project_id": "orchestrate-test",
                "send_anonymous_usage_stats": False,
                "include_paths": ["./more/*.meltano.yml"],
                "plugins": {
                    "extractors": [{"name": "tap-a", "pip_url": "tap-a"}],
                    "loaders": [{"name": "target-b", "pip_url": "target-b"}],
                },
                "jobs": [{"name": "first", "tasks": ["tap-a target-b"]}],
                "schedules": [
                    {"name": "first-daily", "interval": "@daily", "job": "first"},
                    {"name": "first-once", "interval": "@once", "job": "first"},
                    {
                        "name": "legacy",
                        "interval": "@hourly",
                        "extractor": "tap-a",
                        "loader": "target-b",
                        "transform": "skip",
                        "start_date": "2026-01-01",
                    },
                ],
            }
        ),
        encoding="utf-8",
    )
    (tmp_path / "more").mkdir()
    (tmp_path / "more" / "second.meltano.yml").write_text(
        yaml.safe_dump(
            {
                "jobs": [{"name": "second", "tasks": [["tap-a", "target-b"], "tap-a target-b"]}],
                "schedules": [{"name": "second-6h", "interval": "0 */6 * * *", "job": "second"}],
            }
        ),
        encoding="utf-8",
    )
    exports = tmp_path / "exports.yml"
    exports.write_text("exports: {north: {files: x.xml}}\n", encoding="utf-8")
    config = load_config(exports)

    def listed(what: str) -> Any:
        result = subprocess.run(
            [str(MELTANO), what, "list", "--format=json"],
            cwd=tmp_path,
            env={**base_env(), "MELTANO_DATABASE_URI": f"sqlite:///{tmp_path / 'm.db'}"},
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        return json.loads(result.stdout)

    def blocks(task: str | list[str]) -> str:  # a task given as a list of blocks, as one line
        return " ".join(task) if isinstance(task, list) else task

    assert [(job.name, list(job.tasks)) for job in project_jobs(config)] == [
        (job["job_name"], [blocks(task) for task in job["tasks"]]) for job in listed("job")["jobs"]
    ]
    assert [(s.name, s.job, s.cron) for s in project_schedules(config)] == [
        (s["name"], s["job"]["name"], s["cron_interval"])
        for s in listed("schedule")["schedules"]["job"]
        if s["cron_interval"]
    ]
