"""Helpers: a Dagster instance from the shipped `dagster.yaml`, and partitions run at once."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

import dagster as dg
import pytest

from tests.support import ROOT

ORCHESTRATE = ROOT / "orchestrate"
DAGSTER = Path(sys.executable).parent / "dagster"
MODULE = "erp_to_akeneo_dagster.definitions"


POOL = "akeneo_pim"  # the pool of the example exports.yml and of fake projects


def instance_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pool_limit: int | None = None
) -> Path:
    """DAGSTER_HOME holding the template `dagster.yaml` (or one with `pool_limit` as the
    default), its storage and the pool's limit created up front.

    Created here, not by the first runs: two runs creating a fresh SQLite storage at once
    race, and so do two runs that both find the pool without a limit and set it from the
    default (each may then take a slot).
    """
    home = tmp_path / "dagster-home"
    home.mkdir()
    if pool_limit is None:
        shutil.copy(ORCHESTRATE / "dagster.yaml", home / "dagster.yaml")
    else:
        home.joinpath("dagster.yaml").write_text(
            f"concurrency: {{pools: {{granularity: op, default_limit: {pool_limit}}}}}\n",
            encoding="utf-8",
        )
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.get() as instance:
        storage = instance.event_log_storage
        assert storage.initialize_concurrency_limit_to_default(POOL)
        assert storage.get_concurrency_info(POOL).slot_count == (pool_limit or 2)
    return home


def execute_at_once(
    job: str, keys: Iterable[str], env: Mapping[str, str], cwd: Path
) -> dict[str, subprocess.CompletedProcess[str]]:
    """One `dagster job execute` process per partition, all started before any is awaited."""
    command = [str(DAGSTER), "job", "execute", "-m", MODULE, "-j", job]
    processes = {
        key: subprocess.Popen(
            [*command, "--tags", json.dumps({"dagster/partition": key})],
            cwd=cwd,
            env=dict(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for key in keys
    }
    results = {}
    for key, process in processes.items():
        output = process.communicate(timeout=300)[0]
        results[key] = subprocess.CompletedProcess(process.args, process.returncode, output)
    return results
