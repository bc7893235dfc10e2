"""tests/browser.py itself: the skip/fail policy without Chromium, and its fixtures on a page
written to disk (as the target's HTML pages will be)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests import browser
from tests.browser import (  # noqa: F401
    browser_errors_fixture,
    chromium_fixture,
    page_fixture,
    screenshot_fixture,
)

if TYPE_CHECKING:
    from playwright.sync_api import Page


@pytest.mark.parametrize(
    ("ci", "outcome"), [(None, pytest.skip.Exception), ("true", pytest.fail.Exception)]
)
def test_missing_chromium_skips_except_under_ci(
    monkeypatch: pytest.MonkeyPatch, ci: str | None, outcome: type[BaseException]
) -> None:
    monkeypatch.setenv("CHROMIUM", "/nonexistent/chromium")
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match="CHROMIUM=/nonexistent/chromium is not a file"):
        browser.require_chromium()


@pytest.mark.browser
def test_page_opens_a_file_and_saves_a_screenshot(
    page: Page, screenshot: Callable[..., Path], browser_errors: list[str], tmp_path: Path
) -> None:
    html = tmp_path / "report.html"
    html.write_text(
        "<!DOCTYPE html><title>t</title><style>p{color:#06c}</style>"
        "<p id=out>waiting</p><script>document.getElementById('out').textContent = 6 * 7</script>",
        encoding="utf-8",
    )
    page.goto(html.as_uri())
    assert page.inner_text("#out") == "42"
    saved = screenshot("report")
    assert saved.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert saved.parent.name == "test_page_opens_a_file_and_saves_a_screenshot"
    assert browser_errors == []
