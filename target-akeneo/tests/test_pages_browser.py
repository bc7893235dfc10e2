"""The target's HTML pages (change preview, run report) and the sandbox browser showing what the
target sent, in headless Chromium against real target runs and a real sandbox process.

What a person sees is checked against what the PIM holds and what the run wrote. Screenshots
go to test-output/screenshots/test_pages_browser/<test>/.
"""

from __future__ import annotations

import copy
import json
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from akeneo_sandbox.testing import SandboxProcess
from target_akeneo.testing import (
    ACCEPTANCE_RECORDS,
    Run,
    run_target,
    sandbox_config,
    singer_lines,
)
from tests.browser import (  # noqa: F401
    browser_errors_fixture,
    chromium_fixture,
    page_fixture,
    screenshot_fixture,
)

pytestmark = pytest.mark.browser
Shot = Callable[..., Path]


def records(*changes: tuple[int, dict[str, Any]]) -> list[dict[str, Any]]:
    """Acceptance records by index, each with its changes applied."""
    chosen = []
    for index, change in changes:
        record = copy.deepcopy(ACCEPTANCE_RECORDS[index])
        record.update(change)
        chosen.append(record)
    return chosen


def run(sandbox: Any, tmp_path: Path, chosen: list[dict[str, Any]], **settings: Any) -> Run:
    result = run_target(
        sandbox_config(sandbox, tmp_path, **settings), singer_lines(chosen), tmp_path
    )
    assert result.returncode == 0, result.stderr
    return result


def shown_ids(page: Page) -> list[str]:
    return page.locator("#rows > tbody > tr").evaluate_all("rows => rows.map(r => r.dataset.id)")


def count(page: Page, name: str) -> int:
    return int(page.inner_text(f"#counts li[data-count='{name}'] b"))


def test_preview_shows_new_changed_unchanged_and_refused(
    fresh_sandbox: Any, tmp_path: Path, page: Page, screenshot: Shot, browser_errors: list[str]
) -> None:
    run(fresh_sandbox, tmp_path, records((0, {}), (1, {})))
    before = {p["identifier"]: p for p in fresh_sandbox.all_products()}
    changed_name = {"en": "Merino tee II"}
    dry = run(
        fresh_sandbox,
        tmp_path,
        records((0, {}), (1, {"name": changed_name}), (2, {}), (3, {})),
        dry_run=True,
        skip_unchanged=False,  # compared with what the PIM holds, not with the state store
    )
    assert {p["identifier"]: p for p in fresh_sandbox.all_products()} == before  # nothing sent
    assert dry.report["preview_reads"] == 1  # four products: one search request
    preview = Path(dry.config["preview_path"])
    assert f"change preview written to {preview}" in dry.stderr

    page.goto(preview.as_uri())
    expect(page.locator("body[data-ready=true]")).to_have_count(1)
    assert {name: count(page, name) for name in ("new", "changed", "unchanged", "refused")} == {
        "new": 1, "changed": 1, "unchanged": 1, "refused": 1,
    }  # fmt: skip
    assert sorted(shown_ids(page)) == ["SKU-100234", "SKU-100235", "SKU-100236", "SKU-100237"]
    statuses = page.locator("#rows > tbody > tr").evaluate_all(
        "rows => Object.fromEntries(rows.map(r => [r.dataset.id, r.dataset.status]))"
    )
    assert statuses == {
        "SKU-100234": "unchanged", "SKU-100235": "changed", "SKU-100236": "new",
        "SKU-100237": "refused",
    }  # fmt: skip
    screenshot("all")

    page.select_option("#status", "changed")
    assert shown_ids(page) == ["SKU-100235"]
    diff = page.locator("#rows tr[data-id='SKU-100235'] table.diff tr[data-attribute]")
    assert diff.evaluate_all("rows => rows.map(r => r.dataset.attribute)") == ["name"]
    cell = page.locator("#rows tr[data-id='SKU-100235'] tr[data-attribute=name]")
    assert cell.get_attribute("data-locale") == "en_US"
    held = next(v for v in before["SKU-100235"]["values"]["name"] if v["locale"] == "en_US")
    assert cell.locator("td.cur").inner_text() == held["data"]
    # The value the run would send is the one in the dry run's payload file.
    payloads = [
        json.loads(line) for line in Path(dry.config["dry_run_path"]).read_text().splitlines()
    ]
    sent = next(p["payload"] for p in payloads if p["payload"]["identifier"] == "SKU-100235")
    assert (
        cell.locator("td.sent").inner_text() == sent["values"]["name"][0]["data"] == "Merino tee II"
    )
    screenshot("changed")

    page.select_option("#status", "")
    page.select_option("#family", "shoes")
    assert sorted(shown_ids(page)) == ["SKU-100234", "SKU-100237"]
    page.select_option("#family", "")
    page.fill("#q", "purple")
    assert shown_ids(page) == ["SKU-100237"]
    expect(page.locator("#rows tr[data-id='SKU-100237'] .reason")).to_have_text(
        "option PURPLE not in color"
    )
    page.fill("#q", "SKU-100236")
    assert shown_ids(page) == ["SKU-100236"]
    new_cells = page.locator("#rows tr[data-id='SKU-100236'] tr[data-attribute]")
    assert "name" in new_cells.evaluate_all("rows => rows.map(r => r.dataset.attribute)")
    assert browser_errors == []


def test_run_report_groups_rejections_by_cause(
    fresh_sandbox: Any, tmp_path: Path, page: Page, screenshot: Shot, browser_errors: list[str]
) -> None:
    run(fresh_sandbox, tmp_path, records((0, {}), (1, {})))
    purple = [(i, {"sku": f"P-{i}", "ean": None, "color": "PURPLE"}) for i in range(3)]
    orange = [(i, {"sku": f"O-{i}", "ean": None, "color": "ORANGE"}) for i in range(2)]
    second = run(fresh_sandbox, tmp_path, records((2, {}), *purple, *orange))
    assert second.report["rejected"] == 5
    lines = second.dead_letters()
    html = Path(second.config["report_page_path"])

    page.goto(html.as_uri())
    assert count(page, "rejected") == 5
    assert count(page, "created") == 1
    assert page.locator("svg#history").get_attribute("data-runs") == "2"
    created = page.locator("svg#history g[data-series=created] title").all_text_contents()
    assert created == ["created: 2", "created: 1"]
    groups = page.locator("section.group")
    found = {
        groups.nth(i).get_attribute("data-cause"): int(groups.nth(i).locator(".count").inner_text())
        for i in range(groups.count())
    }
    assert found == {
        "color: The PURPLE value is not in the color attribute option list.": 3,
        "color: The ORANGE value is not in the color attribute option list.": 2,
    }
    purple_group = page.locator("section.group", has_text="PURPLE")
    assert sorted(purple_group.locator("tr[data-id]").evaluate_all(
        "rows => rows.map(r => r.dataset.id)"
    )) == ["P-0", "P-1", "P-2"]  # fmt: skip
    # The product's dead-letter entry opens in the page: the very line of the file.
    cell = purple_group.locator("tr[data-id='P-1'] td[data-line]")
    number = int(cell.get_attribute("data-line") or 0)
    entry = cell.locator("pre.entry")
    assert not entry.is_visible()
    cell.locator("summary").click()
    assert json.loads(entry.inner_text()) == lines[number - 1]
    assert lines[number - 1]["identifier"] == "P-1"
    href = page.locator("a#dead-letter").get_attribute("href") or ""
    assert (html.parent / href).resolve() == Path(second.report["dead_letter_path"]).resolve()
    screenshot("report", full_page=True)
    assert browser_errors == []


def png(rgb: tuple[int, int, int], size: int = 8) -> bytes:
    """A small solid-colour PNG the browser can decode."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + bytes(rgb) * size for _ in range(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )  # fmt: skip


def test_sandbox_shows_the_image_the_target_uploaded(
    pim: SandboxProcess, tmp_path: Path, page: Page, screenshot: Shot, browser_errors: list[str]
) -> None:
    folder = tmp_path / "images"
    folder.mkdir()
    image = png((30, 90, 200))
    (folder / "mug.png").write_bytes(image)
    mapping = {
        "products": {
            "identifier": "sku",
            "values": {"name": {"field": "name", "locales": {"en": "en_US"}}, "image": "image"},
        }
    }
    schema = {
        "type": "object",
        "properties": {
            "sku": {"type": "string"},
            "name": {"type": "object", "additionalProperties": {"type": "string"}},
            "image": {"type": "string"},
        },
    }
    record = {"sku": "MUG-1", "name": {"en": "Blue mug"}, "image": str(folder / "mug.png")}
    lines = [
        {"type": "SCHEMA", "stream": "products", "schema": schema, "key_properties": ["sku"]},
        {"type": "RECORD", "stream": "products", "record": record},
    ]
    config = sandbox_config(pim, tmp_path, mapping=mapping, media_sources=[str(folder)])
    del config["mapping_file"]
    result = run_target(config, "".join(json.dumps(line) + "\n" for line in lines), tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.report["media_uploaded"] == 1
    product = pim.get_product("MUG-1")
    assert product is not None

    page.goto(f"{pim.base_url}/sandbox/ui")
    row = page.locator(f"#grid tr[data-key='{product['uuid']}']")
    expect(row.locator("td.key")).to_contain_text("MUG-1")
    screenshot("grid")
    with page.expect_navigation():
        row.locator("td.key a").click()
    shown = page.locator("#values tr[data-attribute=image] img")
    shown.scroll_into_view_if_needed()
    expect(shown).to_be_visible()
    assert shown.evaluate("img => img.complete ? img.naturalWidth : -1") == 8
    source = shown.get_attribute("src") or ""
    assert product["values"]["image"][0]["data"] in source
    assert page.request.get(f"{pim.base_url}{source}").body() == image
    screenshot("product", full_page=True)
    assert browser_errors == []
