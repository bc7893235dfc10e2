"""Driving the Meltano pipeline of a scenario: settings, state, logs and the target process."""

from __future__ import annotations

import datetime
import json
import sqlite3
import subprocess
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import psutil

from akeneo_sandbox.testing import SandboxProcess
from tests.reliability.leaks import Credentials, LeakScanner
from tests.support import MELTANO, ROOT, MeltanoProject, base_env

STATE_ID = "dev:tap-erp-xml-to-target-akeneo"
# Fast, bounded retries so fault scenarios finish quickly; still several tries per request.
FAST_RETRIES = {
    "TARGET_AKENEO_MAX_RETRIES": "8",
    "TARGET_AKENEO_BACKOFF_BASE": "0.05",
    "TARGET_AKENEO_BACKOFF_MAX": "0.5",
    "TARGET_AKENEO_REQUEST_TIMEOUT": "1",
}


def point_at(project: MeltanoProject, sandbox: SandboxProcess, creds: Credentials) -> None:
    """Send the target to this sandbox with this scenario's unique credentials."""
    project.env.update(
        TARGET_AKENEO_BASE_URL=sandbox.base_url,
        TARGET_AKENEO_CLIENT_ID=creds.client_id,
        TARGET_AKENEO_SECRET=creds.secret,
        TARGET_AKENEO_USERNAME=creds.username,
        TARGET_AKENEO_PASSWORD=creds.password,
    )


def read_files(project: MeltanoProject, files: list[Path]) -> None:
    """Make the tap read exactly these export files."""
    project.env["TAP_ERP_XML_FILES"] = json.dumps([str(f) for f in files])


def _merged(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merged(merged[key], value)
        else:
            merged[key] = value
    return merged


def saved_states(project: MeltanoProject) -> tuple[dict[str, Any], dict[str, Any]]:
    """Meltano's (completed, partial) state of the pipeline; empty dicts when none.

    Read from the run's own system database rather than through `meltano state get`, which
    costs seconds per call. The completed state is what successful runs saved; the partial
    state is what a failed or interrupted run left for the next one.
    """
    database = project.env["MELTANO_DATABASE_URI"].removeprefix("sqlite:///")
    try:
        with closing(sqlite3.connect(database)) as db:
            row = db.execute(
                "SELECT completed_state, partial_state FROM state WHERE state_id = ?",
                (STATE_ID,),
            ).fetchone()
    except sqlite3.OperationalError:  # no state table: Meltano never got that far
        return {}, {}
    if row is None:
        return {}, {}
    completed, partial = (json.loads(text) if text else {} for text in row)
    return completed, partial


def state(project: MeltanoProject) -> dict[str, Any]:
    """The state Meltano hands the tap next time: the partial state merged over the completed."""
    completed, partial = saved_states(project)
    return _merged(completed, partial)


def file_bookmarks(saved: dict[str, Any]) -> dict[str, str]:
    """`file -> mtime` the tap's bookmark claims as completely read (and delivered)."""
    singer_state = saved.get("singer_state", saved)
    stream = singer_state.get("bookmarks", {}).get("products", {})
    files = stream.get("files", {})
    return dict(files) if isinstance(files, dict) else {}


def replication_value(saved: dict[str, Any]) -> str | None:
    """The saved `updated_at` bookmark, normalised to ISO 8601 in UTC, if any."""
    singer_state = saved.get("singer_state", saved)
    value = singer_state.get("bookmarks", {}).get("products", {}).get("replication_key_value")
    if value is None:
        return None
    moment = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment.astimezone(datetime.UTC).isoformat()


def meltano_logs(project: MeltanoProject, since: float) -> list[Path]:
    """Meltano's own run logs written since `since` (epoch seconds)."""
    logs = Path(project.env.get("MELTANO_SYS_DIR_ROOT", ROOT / ".meltano")) / "logs"
    if not logs.is_dir():
        return []
    return [p for p in logs.rglob("*.log") if p.is_file() and p.stat().st_mtime >= since]


def collect(
    leaks: LeakScanner,
    project: MeltanoProject,
    since: float,
    outputs: list[tuple[str, str]] | None = None,
) -> None:
    """Everything a pipeline run left behind, for the secret scan."""
    for label, text in outputs or []:
        leaks.add_text(label, text)
    leaks.add_files([project.run_report, *project.dead_letter_files, *meltano_logs(project, since)])


def start_run(project: MeltanoProject, out: Path, err: Path) -> subprocess.Popen[bytes]:
    """Start `meltano run tap-erp-xml target-akeneo` in the background, output to files."""
    with out.open("wb") as stdout, err.open("wb") as stderr:
        return subprocess.Popen(
            [str(MELTANO), "run", "tap-erp-xml", "target-akeneo"],
            cwd=ROOT,
            env={**base_env(), **project.env},
            stdout=stdout,
            stderr=stderr,
        )


def find_target(parent: subprocess.Popen[bytes], timeout: float = 120) -> psutil.Process:
    """The `target-akeneo` process among the descendants of a running `meltano run`."""
    deadline = time.monotonic() + timeout
    root = psutil.Process(parent.pid)
    while time.monotonic() < deadline:
        assert parent.poll() is None, "meltano exited before target-akeneo started"
        for child in root.children(recursive=True):
            try:
                if child.name() == "target-akeneo" or any(
                    part.endswith("/target-akeneo") for part in child.cmdline()[:2]
                ):
                    return child
            except psutil.NoSuchProcess:
                continue
        time.sleep(0.05)
    raise AssertionError("target-akeneo never started under meltano run")


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
