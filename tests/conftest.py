"""Fixtures of the end-to-end tests: real `meltano` subprocesses against a real sandbox."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from akeneo_sandbox.testing import SandboxProcess
from tests.support import ACCEPTANCE, MELTANO, ROOT, MeltanoProject, base_env


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
