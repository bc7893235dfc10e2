"""The change preview at 10,000 products: its PIM reads, and how fast headless Chromium opens
and filters it.

    .venv/bin/python bench/section_pages.py [--products 10000] [--results bench/RESULTS.md]

A sandbox (acceptance catalog) gets half the products from a real run; then a dry run of all
of them (`skip_unchanged` off, so every line is read from the PIM) writes the preview: half
the existing ones changed, every 50th refused (an option the PIM lacks), the rest new. The
page is opened and filtered (text search, status) in headless Chromium through Playwright,
times taken from Python, so they include the round trip a person's click would not. Writes
its own block of RESULTS.md (between the markers below); run.py keeps it.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from section_variants import section_main
from workloads import CATALOG, ROOT

sys.path.insert(0, str(ROOT))  # tests.browser: finding Chromium, launching it
from akeneo_sandbox.testing import SandboxProcess
from target_akeneo.testing import ACCEPTANCE_RECORDS, run_target, sandbox_config, singer_lines
from tests.browser import find_chromium, launched, new_page

MARKERS = ("<!-- section_pages: begin -->", "<!-- section_pages: end -->")
REPS = 3
TARGET_MS = 1000


def records(count: int, *, changed: bool) -> list[dict[str, Any]]:
    """`count` acceptance-shaped products; `changed` renames the even ones, every 50th has an
    unknown colour."""
    base = ACCEPTANCE_RECORDS[0]
    found = []
    for number in range(count):
        record = dict(base, sku=f"P{number:06d}", ean=None, erp_id=number)
        if changed and number % 2 == 0:
            record["name"] = {"en": f"Renamed {number}", "de": "Trailläufer"}
        if changed and number % 50 == 7:
            record["color"] = "PURPLE"
        found.append(record)
    return found


def open_and_filter(preview: Path, executable: str) -> dict[str, Any]:
    opens, in_page, searches, statuses = [], [], [], []
    with launched(executable) as browser:
        for _ in range(REPS):
            page = new_page(browser)
            started = time.perf_counter()
            page.goto(preview.as_uri())
            page.wait_for_selector("body[data-ready=true]", state="attached")
            opens.append(time.perf_counter() - started)
            in_page.append(int(page.get_attribute("body", "data-ready-ms") or 0))
            rows = page.locator("#rows > tbody > tr").count()
            started = time.perf_counter()
            page.fill("#q", "P000123")
            page.wait_for_function(
                "document.getElementById('shown').textContent.startsWith('1 of')"
            )
            searches.append(time.perf_counter() - started)
            page.fill("#q", "")
            started = time.perf_counter()
            page.select_option("#status", "refused")
            page.wait_for_function(
                "document.querySelector('#rows > tbody > tr').dataset.status === 'refused'"
            )
            statuses.append(time.perf_counter() - started)
            shown = page.inner_text("#shown")
            page.context.close()
    return {
        "open_ms": round(1000 * statistics.median(opens)),
        "ready_ms": round(statistics.median(in_page)),
        "search_ms": round(1000 * statistics.median(searches)),
        "status_ms": round(1000 * statistics.median(statuses)),
        "dom_rows": rows,
        "refused_shown": shown,
    }


def measure(products: int) -> dict[str, Any]:
    executable = find_chromium()
    if executable is None:
        raise SystemExit("section_pages: no Chromium found (apt-get install chromium)")
    with (
        tempfile.TemporaryDirectory() as tmp,
        SandboxProcess(catalog=CATALOG, db=":memory:") as pim,
    ):
        work = Path(tmp)
        seed = run_target(
            sandbox_config(pim, work), singer_lines(records(products // 2, changed=False)), work
        )
        assert seed.returncode == 0, seed.stderr
        config = sandbox_config(pim, work, dry_run=True, skip_unchanged=False)
        started = time.perf_counter()
        dry = run_target(config, singer_lines(records(products, changed=True)), work)
        seconds = time.perf_counter() - started
        assert dry.returncode == 0, dry.stderr
        preview = Path(config["preview_path"])
        browser = open_and_filter(preview, executable)
        reads = int(dry.report["preview_reads"])
        return {
            "products": products,
            "dry_run_seconds": round(seconds, 1),
            "reads": reads,
            "reads_per_100": round(100 * reads / products, 2),
            "requests": dry.report["requests"],
            "html_mb": round(preview.stat().st_size / 1e6, 1),
            **browser,
            "load_average": [round(load, 1) for load in os.getloadavg()],
        }


def render(result: dict[str, Any]) -> str:
    slowest = max(result["open_ms"], result["search_ms"], result["status_ms"])
    verdict = "PASS" if slowest < TARGET_MS else "MISS"
    begin, end = MARKERS
    lines = [
        begin,
        "## Change preview at 10,000 products",
        "",
        f"`bench/section_pages.py --products {result['products']}` (written by the script):"
        f" a dry run of {result['products']} products against a sandbox holding half of them"
        " (`skip_unchanged` off: every line's current values are read), then the preview page"
        f" opened and filtered in headless Chromium, median of {REPS}, timed from Python"
        f" (Playwright round trips included). Load average at the end: {result['load_average']}"
        " (2 shared cores).",
        "",
        "| figure | value |",
        "|---|---|",
        f"| PIM read requests of the preview | {result['reads']} ({result['reads_per_100']}"
        " per 100 products) |",
        f"| all requests of the dry run (structure included) | {result['requests']} |",
        f"| dry run wall time | {result['dry_run_seconds']} s |",
        f"| preview page size | {result['html_mb']} MB |",
        f"| open (navigation to first page rendered) | {result['open_ms']} ms |",
        f"| of which in the page (navigation start to rows shown) | {result['ready_ms']} ms |",
        f"| text search narrowing to 1 product | {result['search_ms']} ms |",
        f"| status filter (refused: {result['refused_shown']}) | {result['status_ms']} ms |",
        f"| table rows in the DOM | {result['dom_rows']} |",
        "",
        f"Open and filter under {TARGET_MS} ms: {verdict} (slowest {slowest} ms).",
        end,
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    return section_main(__doc__ or "", "--products", 10_000, measure, render, MARKERS)


if __name__ == "__main__":
    raise SystemExit(main())
