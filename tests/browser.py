"""Headless Chromium for browser tests: finding it, the skip/fail policy, fixtures, screenshots.

Playwright drives Debian's `chromium` through `executable_path`: Playwright's own browser
downloads are not possible here, so `playwright install` is never needed. A test folder uses
the fixtures `chromium`, `page`, `screenshot` and `browser_errors` by importing their
functions into its conftest.py (the `_fixture` names keep test arguments from shadowing them):

    from tests.browser import (  # noqa: F401
        browser_errors_fixture, chromium_fixture, page_fixture, screenshot_fixture,
    )

    def test_grid(page, screenshot):
        page.goto(url)
        ...
        screenshot("grid")  # test-output/screenshots/<module>/<test>/grid.png

A page written to disk opens the same way: `page.goto(path.as_uri())`.

Without Chromium (or Playwright) the tests are skipped with the reason, except under
`CI=true`, where they fail: CI must not pass by skipping them. `CHROMIUM=/path/to/chrome`
chooses the executable; `TEST_SCREENSHOTS=folder` moves the screenshots.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "test-output" / "screenshots"
EXECUTABLES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
WIDTH, HEIGHT = 1000, 700  # small PNGs, still a readable desktop layout
# Playwright already passes --no-sandbox (needed as root), --headless and a fresh profile.
# Without these, Chromium keeps trying to reach Google's services on a closed network.
LAUNCH_ARGS = [
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 15_000


def find_chromium() -> str | None:
    """`$CHROMIUM`, else the first Chromium or Chrome on PATH."""
    chosen = os.environ.get("CHROMIUM")
    if chosen:
        return chosen if Path(chosen).is_file() else None
    for name in EXECUTABLES:
        found = shutil.which(name)
        if found:
            return found
    return None


def unavailable() -> str | None:
    """Why browser tests cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (it is in the dev dependency group)"
    if find_chromium() is None:
        where = os.environ.get("CHROMIUM")
        if where:
            return f"CHROMIUM={where} is not a file"
        return "no Chromium found (apt-get install chromium, or set CHROMIUM=/path/to/chrome)"
    return None


def in_ci() -> bool:
    """CI=true (or any value but empty, 0, false, no), as the contract test reads it."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def require_chromium() -> str:
    """The executable; skips the test when there is none, fails it under CI=true."""
    reason = unavailable()
    if reason is not None:
        if in_ci():
            pytest.fail(f"browser tests cannot run under CI=true: {reason}", pytrace=False)
        pytest.skip(f"browser test skipped: {reason}")
    executable = find_chromium()
    assert executable is not None
    return executable


@contextmanager
def launched(executable: str) -> Iterator[Browser]:
    """A headless Chromium driven by Playwright, closed on exit."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=LAUNCH_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


def new_page(browser: Browser) -> Page:
    """A page of its own context with the README's viewport (1000×700)."""
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    return page


def save_screenshot(page: Page, path: Path, full_page: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=full_page)
    return path


# Module scope: one browser per test module, so Playwright's event loop never outlives the
# module's tests (other modules may run asyncio code of their own).
@pytest.fixture(name="chromium", scope="module")
def chromium_fixture() -> Iterator[Browser]:
    with launched(require_chromium()) as browser:
        yield browser


@pytest.fixture(name="browser_errors")
def browser_errors_fixture() -> list[str]:
    """Uncaught page errors and console errors of the test's `page` (a blocked resource or a
    Content-Security-Policy violation shows up here)."""
    return []


@pytest.fixture(name="page")
def page_fixture(chromium: Browser, browser_errors: list[str]) -> Iterator[Page]:
    page = new_page(chromium)
    page.on("pageerror", lambda error: browser_errors.append(f"page error: {error}"))

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            browser_errors.append(f"console: {message.text} ({message.location.get('url')})")

    page.on("console", console)
    yield page
    page.context.close()


@pytest.fixture(name="screenshot")
def screenshot_fixture(page: Page, request: pytest.FixtureRequest) -> Callable[..., Path]:
    """`screenshot(name, full_page=False)` saves the page under the test's own folder of
    test-output/screenshots/ (or $TEST_SCREENSHOTS) and returns the path."""
    base = Path(os.environ.get("TEST_SCREENSHOTS") or SCREENSHOTS)
    module = Path(str(request.node.path)).stem
    folder = base / module / re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)

    def take(name: str, full_page: bool = False) -> Path:
        return save_screenshot(page, folder / f"{name}.png", full_page)

    return take
