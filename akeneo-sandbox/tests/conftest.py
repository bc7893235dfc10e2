"""In-process fixtures: the Starlette app with the acceptance catalog and a controllable clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from akeneo_sandbox.app import create_app
from akeneo_sandbox.config import Settings
from akeneo_sandbox.testing import SandboxProcess
from tests.browser import (  # noqa: F401
    browser_errors_fixture,
    chromium_fixture,
    page_fixture,
    screenshot_fixture,
)

from .http_api import Api, extended_catalog

ROOT = Path(__file__).resolve().parents[2]
ACCEPTANCE = ROOT / "tests" / "data" / "acceptance"
CATALOG = ACCEPTANCE / "catalog.json"
COLLECTION = "application/vnd.akeneo.collection+json"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Give each of schemathesis' per-operation tests (test_contract.py) a nodeid of its own.

    pytest 9 builds a test's nodeid from its original name and its parametrization, and
    schemathesis puts the operation in the name only: every operation's test had the contract
    test's one nodeid, so pytest-xdist (which schedules by nodeid) ran none or some of them.
    """
    for item in items:
        base, bracket, operation = item.name.partition("[")
        if bracket and item.nodeid.endswith(f"::{base}"):
            item._id = item._id.with_params(operation.removesuffix("]"))  # noqa: SLF001


class Clock:
    """A settable clock for token expiry and timestamps."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(clock: Clock) -> Iterator[TestClient]:
    app = create_app(Settings(catalog=CATALOG, token_ttl=60), clock=clock)
    with TestClient(app, base_url="http://pim.test") as test_client:
        yield test_client


def get_token(client: TestClient) -> dict[str, str]:
    response = client.post(
        "/api/oauth/v1/token",
        json={"grant_type": "password", "username": "admin", "password": "admin"},
        auth=("sandbox-client", "sandbox-secret"),
    )
    assert response.status_code == 200, response.text
    data: dict[str, str] = response.json()
    return data


@pytest.fixture
def auth(client: TestClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {get_token(client)['access_token']}"}


@pytest.fixture(scope="module")
def pim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    """A real process with the acceptance catalog plus media attributes and association types."""
    catalog = extended_catalog(CATALOG, tmp_path_factory.mktemp("catalog"))
    with SandboxProcess(catalog=catalog) as process:
        yield process


@pytest.fixture
def api(pim: SandboxProcess) -> Api:
    """A client of that process, reset to its catalog without products or media files."""
    pim.reset()
    return Api(pim)
