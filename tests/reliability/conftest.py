"""Shared fixtures of the reliability scenarios, and the hooks writing tests/RELIABILITY.md."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from akeneo_sandbox.testing import SandboxProcess
from tests.reliability import tally
from tests.reliability.leaks import Credentials, LeakScanner
from tests.reliability.loopback import CountingServer
from tests.reliability.pipeline import point_at
from tests.support import ACCEPTANCE, ROOT, MeltanoProject

RELIABILITY_MD = ROOT / "tests" / "RELIABILITY.md"
RESULTS = pytest.StashKey[dict[str, tally.ScenarioResult]]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash.setdefault(RESULTS, {})


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Record each scenario's outcome (a failed setup or teardown counts as an error)."""
    report = yield
    result = item.config.stash.setdefault(RESULTS, {}).get(item.nodeid)
    if result is not None:
        if hasattr(report, "wasxfail"):
            result.outcome = "xfailed" if report.skipped else "xpassed"
        elif report.when == "call":
            result.outcome = report.outcome
        elif report.failed:
            result.outcome = f"error in {report.when}"
        elif report.skipped:
            result.outcome = "skipped"
    return report


def pytest_sessionfinish(session: pytest.Session) -> None:
    results = list(session.config.stash.setdefault(RESULTS, {}).values())
    if results:
        tally.write(RELIABILITY_MD, ROOT, results)


@pytest.fixture
def scenario(request: pytest.FixtureRequest) -> tally.ScenarioResult:
    """This test's row of the tally; the test fills in what it observed."""
    result = tally.ScenarioResult(test=request.node.nodeid)
    request.config.stash.setdefault(RESULTS, {})[request.node.nodeid] = result
    return result


@pytest.fixture
def creds() -> Credentials:
    return Credentials.unique()


@pytest.fixture
def leaks(creds: Credentials, scenario: tally.ScenarioResult) -> LeakScanner:
    """Collects the scenario's outputs; tests end with `scenario.leak... = leaks.assert_clean()`."""
    return LeakScanner(hidden=list(creds.hidden))


@pytest.fixture
def sandboxes(creds: Credentials, tmp_path: Path) -> Iterator[Callable[..., SandboxProcess]]:
    """Start sandboxes (acceptance catalog, this test's credentials); stopped at teardown."""
    with ExitStack() as stack:

        def start(**options: Any) -> SandboxProcess:
            options.setdefault("catalog", ACCEPTANCE / "catalog.json")
            options.setdefault("db", str(tmp_path / f"pim-{time.monotonic_ns()}.sqlite"))
            sandbox = SandboxProcess(**options)
            sandbox.client_id, sandbox.secret = creds.client_id, creds.secret
            sandbox.username, sandbox.password = creds.username, creds.password
            sandbox.extra_args = (
                *sandbox.extra_args,
                *("--client-id", creds.client_id, "--secret", creds.secret),
                *("--username", creds.username, "--password", creds.password),
            )
            return stack.enter_context(sandbox)

        yield start


@pytest.fixture
def pipeline(project: MeltanoProject) -> MeltanoProject:
    """The Meltano project isolated in tmp_path, with no input file yet (tests write them)."""
    for copied in (project.work / "erp").glob("*.xml"):
        copied.unlink()
    return project


@pytest.fixture
def connect(
    pipeline: MeltanoProject, creds: Credentials
) -> Callable[[SandboxProcess], MeltanoProject]:
    def point(sandbox: SandboxProcess) -> MeltanoProject:
        point_at(pipeline, sandbox, creds)
        return pipeline

    return point


@pytest.fixture
def loopback() -> Iterator[CountingServer]:
    """A counting HTTP server on 127.0.0.1 that hostile files point at."""
    with CountingServer() as server:
        yield server
