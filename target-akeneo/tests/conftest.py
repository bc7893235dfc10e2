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


@pytest.fixture(scope="module")
def demo_sandbox() -> Iterator[SandboxProcess]:
    """The sandbox's built-in demo catalog (an `image` attribute taking jpg/png up to 10 MB,
    association types X_SELL, UPSELL and the quantified BUNDLE)."""
    with SandboxProcess() as sb:
        yield sb


@pytest.fixture
def pim(demo_sandbox: SandboxProcess) -> SandboxProcess:
    """The demo-catalog sandbox without products, media files or structure changes."""
    demo_sandbox.reset()
    return demo_sandbox
