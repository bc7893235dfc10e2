"""Fixtures for target-akeneo tests: a real akeneo-sandbox process and a CLI runner."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from target_helpers import CATALOG, MAPPING_FILE

TARGET = Path(sys.executable).parent / "target-akeneo"


@dataclass
class Run:
    """Outcome of one `target-akeneo` subprocess run."""

    returncode: int
    stdout: str
    stderr: str
    config: dict[str, Any]

    @property
    def report(self) -> dict[str, Any]:
        return dict(json.loads(Path(self.config["run_report_path"]).read_text(encoding="utf-8")))

    def dead_letters(self) -> list[dict[str, Any]]:
        path = Path(self.config["dead_letter_path"])
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]

    def states(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]


def sandbox_config(sandbox: Any, tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "base_url": sandbox.base_url,
        "client_id": sandbox.client_id,
        "secret": sandbox.secret,
        "username": sandbox.username,
        "password": sandbox.password,
        "mapping_file": str(MAPPING_FILE),
        "dead_letter_path": str(tmp_path / "dead-letter.jsonl"),
        "run_report_path": str(tmp_path / "report.json"),
        "cache_path": str(tmp_path / "cache.sqlite"),
        "dry_run_path": str(tmp_path / "dry-run.jsonl"),
        "backoff_base": 0.01,
        "backoff_max": 0.05,
        "request_timeout": 10,
    }
    config.update(overrides)
    return config


def run_target(config: dict[str, Any], singer_input: str, tmp_path: Path) -> Run:
    config_path = tmp_path / f"config-{len(list(tmp_path.glob('config-*')))}.json"
    config_path.write_text(json.dumps(config), encoding="utf-8")
    done = subprocess.run(
        [str(TARGET), "--config", str(config_path)],
        input=singer_input,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        check=False,
    )
    run = Run(done.returncode, done.stdout, done.stderr, config)
    for secret in (config["secret"], config["password"]):
        assert secret not in done.stdout
        assert secret not in done.stderr
        for path in (config["run_report_path"], config["dead_letter_path"]):
            if Path(path).exists():
                assert secret not in Path(path).read_text(encoding="utf-8")
    return run


def start_target(
    config: dict[str, Any], tmp_path: Path, command: tuple[str, ...] = (str(TARGET),)
) -> subprocess.Popen[str]:
    """Start the target CLI with pipes, for tests that feed its input in steps."""
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config), encoding="utf-8")
    return subprocess.Popen(
        [*command, "--config", str(config_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Any]:
    from akeneo_sandbox.testing import SandboxProcess

    with SandboxProcess(catalog=CATALOG) as sb:
        yield sb


@pytest.fixture
def fresh_sandbox(sandbox: Any) -> Any:
    sandbox.reset()
    return sandbox
