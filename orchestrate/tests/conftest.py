"""Fixtures of the orchestration tests: the end-to-end tests' own (one `meltano install`)."""

from __future__ import annotations

from tests.conftest import meltano_installed, project

__all__ = ["meltano_installed", "project"]
