"""Regenerate the README screenshots under docs/screenshots/: the sandbox browser, the target's
change preview and its run report.

A sandbox with the demo catalog receives the demo export (examples/erp, its images from
examples/images) through tap-erp-xml and the target, as scripts/demo.sh does; its browser is the
grid and product screenshots. Then a sandbox with the acceptance catalog receives a dry run (the
preview) and five small target runs (the report, with a history of five runs, retries and two
rejection causes). It takes 1000×700 screenshots with Debian's Chromium (tests/browser.py finds
it; `apt-get install chromium` if it is missing). Each PNG must stay under 150 KB, so the
repository stays small: the script fails otherwise.

    .venv/bin/python scripts/screenshots.py
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parent.parent
# `tests` is a namespace package: tests.browser lives at the root, tests.http_api in
# akeneo-sandbox/tests.
sys.path[:0] = [str(ROOT), str(ROOT / "akeneo-sandbox")]

from tests.http_api import Api  # noqa: E402

from akeneo_sandbox.testing import SandboxProcess  # noqa: E402
from target_akeneo.testing import (  # noqa: E402
    ACCEPTANCE_RECORDS,
    CATALOG,
    TARGET,
    run_target,
    sandbox_config,
    singer_lines,
)
from tests.browser import find_chromium, launched, new_page, save_screenshot  # noqa: E402

if TYPE_CHECKING:
    from playwright.sync_api import Page

OUT = ROOT / "docs" / "screenshots"
MAX_BYTES = 150_000
TAP = TARGET.parent / "tap-erp-xml"
# The product page shown: images, names and descriptions in two locales.
SHOWN_PRODUCT = "DEMO-1001"


def load_demo(pim: SandboxProcess, folder: Path) -> None:
    """The demo export through the tap and the target, so the images are the target's uploads.

    Both run in the repository, where the tap config's file glob and the mapping's image
    template (`examples/images/{image}`) are relative to; the target's own files go to `folder`.
    """
    config = sandbox_config(
        pim,
        folder,
        mapping_file="examples/mapping.yml",
        media_sources=["./examples/images"],
        create_missing_categories=True,
    )
    config_path = folder / "demo-target.json"
    config_path.write_text(json.dumps(config), encoding="utf-8")
    tap = subprocess.run(
        [str(TAP), "--config", "examples/tap-config.json"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    if tap.returncode != 0:
        sys.exit(f"screenshots: tap-erp-xml failed: {tap.stderr[-500:]}")
    target = subprocess.run(
        [str(TARGET), "--config", str(config_path)],
        input=tap.stdout, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    # The demo export holds products the PIM rejects on purpose (a short EAN), so the exit code
    # says little: what the screenshots need is the images.
    with_image = [p for p in pim.all_products() if p["values"].get("image")]
    if len(with_image) < 6:
        sys.exit(f"screenshots: the demo load uploaded too few images: {target.stderr[-500:]}")


def report_runs() -> list[list[dict[str, Any]]]:
    """Five nights' records: creations, renames, and rejections retried on the next runs."""
    first, merino, cap, purple = (dict(record) for record in ACCEPTANCE_RECORDS)
    renamed = dict(merino, name={"en": "Merino tee (organic)"})
    repriced = dict(renamed, prices=[{"amount": 54.0, "currency": "EUR"}])
    cheaper = dict(cap, prices=[{"amount": 17.5, "currency": "EUR"}])
    more = [dict(purple, sku=f"SKU-3{n:05d}", ean=None) for n in range(3)]
    tees = [dict(merino, sku=f"SKU-4{n:05d}", ean=None) for n in range(6)]
    orange = [dict(first, sku=f"SKU-2{n:05d}", ean=None, color="ORANGE") for n in range(2)]
    # EANs cut short by the ERP, refused by the PIM's validation: the second rejection cause.
    short = [dict(cap, sku=f"SKU-5{n:05d}", ean=f"4006381{n}") for n in range(3)]
    return [
        [first, merino],
        [first, renamed, cap, purple, *tees[:2]],
        [first, renamed, cheaper, purple, *more, *tees[:4]],
        # Before this run the PIM gets the option purple: the rejected products are retried.
        [first, repriced, cheaper, *tees[:4]],
        [first, repriced, cap, *tees, *orange, *short],
    ]


def target_pages(folder: Path) -> dict[str, str]:
    """The preview and run report pages of real target runs, by screenshot name.

    The runs work in `folder` with relative output paths, so the report names its dead-letter
    file `output/dead-letter-….jsonl` rather than a temporary machine path.
    """
    first, renamed, new, purple = (dict(record) for record in ACCEPTANCE_RECORDS)
    renamed["name"] = {"en": "Merino tee (organic)"}
    renamed["prices"] = [{"amount": 54.0, "currency": "EUR"}]
    # run_target runs the target in `folder`; being there too lets its checks (no secret in the
    # report or dead-letter files) find the files by the same relative paths.
    with contextlib.chdir(folder), SandboxProcess(catalog=CATALOG) as pim:
        base = sandbox_config(pim, Path("output"))
        # After the first run: one product unchanged, one changed, one new and one refused.
        preview = base | {"dry_run": True, "skip_unchanged": False}
        runs = [(base, records) for records in report_runs()]
        runs.insert(1, (preview, [first, renamed, new, purple]))
        for number, (config, records) in enumerate(runs):
            if number == 4:
                option = {"code": "purple", "labels": {"en_US": "Purple"}}
                Api(pim).post("attributes/color/options", option).raise_for_status()
            run = run_target(config, singer_lines(records), folder)
            # 1: some products were rejected, on purpose.
            if run.returncode not in (0, 1):
                sys.exit(f"screenshots: target run failed: {run.stderr[-500:]}")
    return {
        "preview.png": (folder / preview["preview_path"]).as_uri(),
        "run-report.png": (folder / base["report_page_path"]).as_uri(),
    }


def main() -> None:
    executable = find_chromium()
    if executable is None:
        sys.exit("screenshots: no Chromium found (apt-get install chromium, or set CHROMIUM)")
    with (
        tempfile.TemporaryDirectory() as tmp,
        SandboxProcess(catalog=ROOT / "examples" / "catalog.json") as pim,
        launched(executable) as browser,
    ):
        folder = Path(tmp)
        (folder / "demo").mkdir()
        load_demo(pim, folder / "demo")
        product = pim.get_product(SHOWN_PRODUCT)
        assert product is not None
        shots = {
            "sandbox-grid.png": "/sandbox/ui",
            "sandbox-product.png": f"/sandbox/ui/products/{product['uuid']}",
        }
        page = new_page(browser)
        urls = {name: f"{pim.base_url}{path}" for name, path in shots.items()}
        for name, url in (urls | target_pages(folder)).items():
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
