"""Helpers of the end-to-end tests: the Meltano project run as real subprocesses."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from akeneo_sandbox.testing import SandboxProcess

ROOT = Path(__file__).resolve().parent.parent
ACCEPTANCE = ROOT / "tests" / "data" / "acceptance"
SAMPLES = ROOT / "tests" / "data" / "samples"
EXAMPLES = ROOT / "examples"
MELTANO = Path(sys.executable).parent / "meltano"


def base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TAP_", "TARGET_", "MELTANO_"))}
    env.update(
        MELTANO_SEND_ANONYMOUS_USAGE_STATS="false",
        MELTANO_CLI_DISABLE_VERSION_CHECK="true",
        MELTANO_DISABLE_TRACKING="true",
        NO_COLOR="1",
    )
    return env


def meltano_succeeds(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """A `meltano` command (in this repository's project unless `cwd`) that must succeed."""
    result = subprocess.run(
        [str(MELTANO), *args],
        cwd=cwd,
        env=base_env(),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, (args, result.stdout[-3000:], result.stderr[-3000:])
    return result


@contextmanager
def run_wide_lock(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[Path]:
    """Hold a lock shared by every process of this test run; yields a marker path beside it.

    Under pytest-xdist each worker has its own basetemp, all in the run's folder: the lock
    and the marker live there, so the first worker does the work and the others find it done.
    """
    folder = tmp_path_factory.getbasetemp()
    if "PYTEST_XDIST_WORKER" in os.environ:
        folder = folder.parent
    with (folder / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield folder / f"{name}.done"


@dataclass
class MeltanoProject:
    """The repository's Meltano project, run with its own state and output folder."""

    work: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def dead_letter(self) -> Path:
        """The configured `dead_letter_path`: each run writes its own file beside it."""
        return self.work / "dead-letter.jsonl"

    @property
    def dead_letter_files(self) -> list[Path]:
        """Every run's dead-letter file (named with the run's start time), oldest first."""
        return sorted(self.work.glob("dead-letter-*.jsonl"))

    @property
    def run_report(self) -> Path:
        return self.work / "run-report.json"

    def point_at(self, sandbox: SandboxProcess) -> None:
        self.env.update(
            TARGET_AKENEO_BASE_URL=sandbox.base_url,
            TARGET_AKENEO_CLIENT_ID=sandbox.client_id,
            TARGET_AKENEO_SECRET=sandbox.secret,
            TARGET_AKENEO_USERNAME=sandbox.username,
            TARGET_AKENEO_PASSWORD=sandbox.password,
        )

    def run(
        self, *args: str, timeout: float = 600, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(MELTANO), *args],
            cwd=ROOT,
            env={**base_env(), **self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def dead_letters(self) -> list[dict[str, object]]:
        """The lines of the last run's dead-letter file (none if the last run rejected
        nothing)."""
        if not self.run_report.exists():
            return []
        path = json.loads(self.run_report.read_text(encoding="utf-8"))["dead_letter_path"]
        if path is None:
            return []
        lines = Path(path).read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]


def product_requests(stats: dict[str, object]) -> int:
    """Product write requests the sandbox answered (any status)."""
    rows = stats["requests"]
    assert isinstance(rows, list)
    return sum(
        int(row["count"])
        for row in rows
        if row["method"] == "PATCH" and str(row["route"]).startswith("/api/rest/v1/products")
    )
