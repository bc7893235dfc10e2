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


def instance_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """DAGSTER_HOME holding the template `dagster.yaml`, its storage created up front.

    Created here, not by the first run: two runs creating a fresh SQLite storage at once race.
    """
    home = tmp_path / "dagster-home"
    home.mkdir()
    shutil.copy(ORCHESTRATE / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    dg.DagsterInstance.get().dispose()
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
