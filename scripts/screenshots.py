"""Regenerate the README screenshots of the sandbox browser under docs/screenshots/.

Starts a sandbox with the demo catalog, loads the browser tests' sample content through the API
(akeneo-sandbox/tests/ui_sample.py), and takes 1000×700 screenshots with Debian's Chromium
(tests/browser.py finds it; `apt-get install chromium` if it is missing). Each PNG must stay
under 150 KB, so the repository stays small: the script fails otherwise.

    .venv/bin/python scripts/screenshots.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# `tests` is a namespace package: tests.browser lives at the root, tests.ui_sample and
# tests.http_api in akeneo-sandbox/tests.
sys.path[:0] = [str(ROOT), str(ROOT / "akeneo-sandbox")]

from tests.http_api import Api  # noqa: E402
from tests.ui_sample import load_sample  # noqa: E402

from akeneo_sandbox.testing import SandboxProcess  # noqa: E402
from tests.browser import find_chromium, launched, new_page, save_screenshot  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
MAX_BYTES = 150_000


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
        for name, path in shots.items():
            page.goto(f"{pim.base_url}{path}")
            saved = save_screenshot(page, OUT / name)
            size = saved.stat().st_size
            print(f"{saved.relative_to(ROOT)}: {size // 1000} KB")
            if size > MAX_BYTES:
                sys.exit(f"screenshots: {name} is over {MAX_BYTES // 1000} KB")


if __name__ == "__main__":
    main()
