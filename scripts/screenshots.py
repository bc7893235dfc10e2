"""Regenerate the README screenshots under docs/screenshots/: the sandbox browser, the target's
change preview and its run report.

Starts a sandbox with the demo catalog, loads the browser tests' sample content through the API
(akeneo-sandbox/tests/ui_sample.py); then a sandbox with the acceptance catalog receives a real
target run, a dry run (the preview) and a run with rejections (the report). It takes 1000×700
screenshots with Debian's Chromium
(tests/browser.py finds it; `apt-get install chromium` if it is missing). Each PNG must stay
under 150 KB, so the repository stays small: the script fails otherwise.

    .venv/bin/python scripts/screenshots.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parent.parent
# `tests` is a namespace package: tests.browser lives at the root, tests.ui_sample and
# tests.http_api in akeneo-sandbox/tests.
sys.path[:0] = [str(ROOT), str(ROOT / "akeneo-sandbox")]

from tests.http_api import Api  # noqa: E402
from tests.ui_sample import load_sample  # noqa: E402

from akeneo_sandbox.testing import SandboxProcess  # noqa: E402
from target_akeneo.testing import (  # noqa: E402
    ACCEPTANCE_RECORDS,
    CATALOG,
    run_target,
    sandbox_config,
    singer_lines,
)
from tests.browser import find_chromium, launched, new_page, save_screenshot  # noqa: E402

if TYPE_CHECKING:
    from playwright.sync_api import Page

OUT = ROOT / "docs" / "screenshots"
MAX_BYTES = 150_000


def target_pages(folder: Path) -> dict[str, str]:
    """The preview and run report pages of real target runs, by screenshot name."""
    first, renamed, new, purple = (dict(record) for record in ACCEPTANCE_RECORDS)
    renamed["name"] = {"en": "Merino tee (organic)"}
    renamed["prices"] = [{"amount": 54.0, "currency": "EUR"}]
    orange = [dict(first, sku=f"SKU-2{n:05d}", ean=None, color="ORANGE") for n in range(2)]
    more = [dict(purple, sku=f"SKU-3{n:05d}", ean=None) for n in range(3)]
    with SandboxProcess(catalog=CATALOG) as pim:
        base = sandbox_config(pim, folder)
        for config, records in (
            (base, [first, ACCEPTANCE_RECORDS[1]]),
            (base | {"dry_run": True, "skip_unchanged": False}, [first, renamed, new, purple]),
            (base, [first, renamed, new, purple, *more, *orange]),
        ):
            run = run_target(config, singer_lines(records), folder)
            if run.returncode != 0:
                sys.exit(f"screenshots: target run failed: {run.stderr[-500:]}")
    return {
        "preview.png": Path(base["preview_path"]).as_uri(),
        "run-report.png": Path(base["report_page_path"]).as_uri(),
    }


def main() -> None:
    executable = find_chromium()
    if executable is None:
        sys.exit("screenshots: no Chromium found (apt-get install chromium, or set CHROMIUM)")
    with SandboxProcess() as pim, launched(executable) as browser:
        load_sample(Api(pim))
        variant = pim.get_product("tshirt-red-s")
        assert variant is not None
        shots = {
            "sandbox-grid.png": "/sandbox/ui",
            "sandbox-product.png": f"/sandbox/ui/products/{variant['uuid']}",
        }
        page = new_page(browser)
        with tempfile.TemporaryDirectory() as tmp:
            urls = {name: f"{pim.base_url}{path}" for name, path in shots.items()}
            for name, url in (urls | target_pages(Path(tmp))).items():
                shoot(page, name, url)


def shoot(page: Page, name: str, url: str) -> None:
    page.goto(url)
    saved = save_screenshot(page, OUT / name)
    size = saved.stat().st_size
    print(f"{saved.relative_to(ROOT)}: {size // 1000} KB")
    if size > MAX_BYTES:
        sys.exit(f"screenshots: {name} is over {MAX_BYTES // 1000} KB")


if __name__ == "__main__":
    main()
