"""Fixtures of the tap tests (helpers: tap_erp_xml.testing; data paths: tests.support)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support import ACCEPTANCE


@pytest.fixture
def acceptance_config() -> dict[str, Any]:
    """The acceptance configuration as written, with base_dir pointing at its folder."""
    config: dict[str, Any] = json.loads((ACCEPTANCE / "tap-config.json").read_text())
    config["base_dir"] = str(ACCEPTANCE)
    return config


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[[dict[str, Any]], Path]:
    def write(config: dict[str, Any]) -> Path:
        path = tmp_path / "config.json"
        path.write_text(json.dumps(config))
        return path

    return write
