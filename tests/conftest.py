"""Fixtures of the end-to-end tests: real `meltano` subprocesses against a real sandbox."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from akeneo_sandbox.testing import SandboxProcess

ROOT = Path(__file__).resolve().parent.parent
ACCEPTANCE = ROOT / "tests" / "data" / "acceptance"
EXAMPLES = ROOT / "examples"
MELTANO = Path(sys.executable).parent / "meltano"


@pytest.fixture(scope="session")
def meltano_installed() -> None:
    """Install the project's plugins once (editable installs of the two packages)."""
    result = subprocess.run(
        [str(MELTANO), "install"],
        cwd=ROOT,
        env=base_env(),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TAP_", "TARGET_", "MELTANO_"))}
    env.update(
        MELTANO_SEND_ANONYMOUS_USAGE_STATS="false",
        MELTANO_CLI_DISABLE_VERSION_CHECK="true",
        MELTANO_DISABLE_TRACKING="true",
        NO_COLOR="1",
    )
    return env


@dataclass
class MeltanoProject:
    """The repository's Meltano project, run with its own state and output folder."""

    work: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def dead_letter(self) -> Path:
        return self.work / "dead-letter.jsonl"

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
        if not self.dead_letter.exists():
            return []
        lines = self.dead_letter.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture
def project(tmp_path: Path, meltano_installed: None) -> MeltanoProject:
    """The project with state, cache, reports and input files isolated in tmp_path."""
    erp = tmp_path / "erp"
    erp.mkdir()
    shutil.copy(ACCEPTANCE / "erp-products.xml", erp / "erp-products.xml")
    return MeltanoProject(
        work=tmp_path,
        env={
            "MELTANO_ENVIRONMENT": "dev",
            "MELTANO_DATABASE_URI": f"sqlite:///{tmp_path / 'meltano.db'}",
            "TAP_ERP_XML_FILES": json.dumps([str(erp / "*.xml")]),
            "TARGET_AKENEO_MAPPING_FILE": str(ACCEPTANCE / "mapping.yml"),
            "TARGET_AKENEO_DEAD_LETTER_PATH": str(tmp_path / "dead-letter.jsonl"),
            "TARGET_AKENEO_RUN_REPORT_PATH": str(tmp_path / "run-report.json"),
            "TARGET_AKENEO_CACHE_PATH": str(tmp_path / "cache.sqlite"),
            "TARGET_JSONL_DESTINATION_PATH": str(tmp_path / "jsonl"),
        },
    )


@pytest.fixture
def acceptance_sandbox() -> Iterator[SandboxProcess]:
    with SandboxProcess(catalog=ACCEPTANCE / "catalog.json") as sandbox:
        yield sandbox


def product_requests(stats: dict[str, object]) -> int:
    """Product write requests the sandbox answered (any status)."""
    rows = stats["requests"]
    assert isinstance(rows, list)
    return sum(
        int(row["count"])
        for row in rows
        if row["method"] == "PATCH" and str(row["route"]).startswith("/api/rest/v1/products")
    )
