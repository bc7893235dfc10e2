"""Fixtures of the end-to-end tests: real `meltano` subprocesses against a real sandbox."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from akeneo_sandbox.testing import SandboxProcess
from tests.support import ACCEPTANCE, ROOT, MeltanoProject, meltano_succeeds, run_wide_lock


@pytest.fixture(scope="session")
def meltano_installed(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Install the project's plugins once per test run (editable installs of the two packages).

    Once, not once per fixture: orchestrate/tests/conftest.py registers this fixture again, and
    each pytest-xdist worker asks for it; the others wait until the first install is done.
    """
    with run_wide_lock(tmp_path_factory, "meltano-install") as installed:
        if installed.exists():
            return
        meltano_succeeds("install")
        installed.touch()


@pytest.fixture
def project(tmp_path: Path, meltano_installed: None) -> MeltanoProject:
    """The project with state, cache, reports, input files and run folder isolated in tmp_path.

    Meltano's run folder (`.meltano/run/<plugin>/`, holding config, catalog and state files
    under fixed names) is shared by every `meltano run` of the project; a system folder of the
    test's own that links to the installed plugins keeps runs of other tests (other xdist
    workers, a scenario's concurrent runs) from deleting this run's files.
    """
    erp = tmp_path / "erp"
    erp.mkdir()
    shutil.copy(ACCEPTANCE / "erp-products.xml", erp / "erp-products.xml")
    system = tmp_path / ".meltano"
    system.mkdir()
    for kind in ("extractors", "loaders"):
        (system / kind).symlink_to(ROOT / ".meltano" / kind, target_is_directory=True)
    return MeltanoProject(
        work=tmp_path,
        env={
            "MELTANO_SYS_DIR_ROOT": str(system),
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
