"""Fixtures: a real akeneo-sandbox process. Helpers are in `target_akeneo.testing`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from akeneo_sandbox.testing import SandboxProcess
from target_akeneo.testing import CATALOG


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Any]:
    with SandboxProcess(catalog=CATALOG) as sb:
        yield sb


@pytest.fixture
def fresh_sandbox(sandbox: Any) -> Any:
    sandbox.reset()
    return sandbox
