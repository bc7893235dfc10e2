"""End to end: the real `meltano run` against a real akeneo-sandbox process."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from akeneo_sandbox.testing import SandboxProcess
from tests.support import ACCEPTANCE, EXAMPLES, MeltanoProject, product_requests

pytestmark = pytest.mark.e2e


def comparable(product: dict[str, Any]) -> dict[str, Any]:
    """The parts of a product the acceptance case fixes, in an order-free form."""
    values = {
        attribute: sorted(entries, key=lambda e: (str(e["locale"]), str(e["scope"])))
        for attribute, entries in product["values"].items()
        if attribute != "sku"  # Akeneo may or may not list the identifier attribute
    }
    return {
        "family": product["family"],
        "enabled": product["enabled"],
        "categories": sorted(product["categories"]),
        "values": values,
    }


def expected_products() -> dict[str, dict[str, Any]]:
    expected = json.loads((ACCEPTANCE / "expected.json").read_text(encoding="utf-8"))
    expected.pop("_rejected")
    return {sku: comparable(product) for sku, product in expected.items()}


def test_acceptance_run_then_incremental_rerun(
    project: MeltanoProject, acceptance_sandbox: SandboxProcess
) -> None:
    project.point_at(acceptance_sandbox)

    first = project.run("run", "tap-erp-xml", "target-akeneo")

    assert first.returncode == 0, first.stderr[-4000:]
    in_pim = {p["identifier"]: comparable(p) for p in acceptance_sandbox.all_products()}
    assert in_pim == expected_products()
    rejected = project.dead_letters()
    assert [entry["identifier"] for entry in rejected] == ["SKU-100237"]
    assert "The PURPLE value is not in the color attribute option list." in json.dumps(rejected)
    report = json.loads(project.run_report.read_text(encoding="utf-8"))
    assert (report["created"], report["rejected"], report["received"]) == (3, 1, 4)
    writes_after_first = product_requests(acceptance_sandbox.stats())
    assert writes_after_first == 1  # four products, one collection PATCH

    second = project.run("run", "tap-erp-xml", "target-akeneo")

    assert second.returncode == 0, second.stderr[-4000:]
    assert re.search(r"\b0 files read, 1 files unchanged", second.stderr), second.stderr[-4000:]
    # Only the rejected product goes out again (its option is still missing).
    assert product_requests(acceptance_sandbox.stats()) == writes_after_first + 1
    report = json.loads(project.run_report.read_text(encoding="utf-8"))
    counts = {k: report[k] for k in ("received", "retried", "still_rejected", "rejected")}
    assert counts == {"received": 1, "retried": 1, "still_rejected": 1, "rejected": 1}


def test_changed_file_sends_only_changed_products(
    project: MeltanoProject, acceptance_sandbox: SandboxProcess, tmp_path: Path
) -> None:
    project.point_at(acceptance_sandbox)
    assert project.run("run", "tap-erp-xml", "target-akeneo").returncode == 0
    export = tmp_path / "erp" / "erp-products.xml"
    text = export.read_text(encoding="utf-8")
    export.write_text(
        text.replace(
            '<Name lang="en">Merino tee</Name>', '<Name lang="en">Merino tee II</Name>'
        ).replace("2026-11-21T18:10:00Z", "2026-11-22T09:00:00Z"),
        encoding="utf-8",
    )
    future = time.time() + 5  # a later mtime even on coarse file-system clocks
    os.utime(export, (future, future))

    rerun = project.run("run", "tap-erp-xml", "target-akeneo")

    assert rerun.returncode == 0, rerun.stderr[-4000:]
    report = json.loads(project.run_report.read_text(encoding="utf-8"))
    assert report["updated"] == 1
    assert report["created"] == 0
    name = acceptance_sandbox.get_product("SKU-100235")["values"]["name"]  # type: ignore[index]
    assert name == [{"locale": "en_US", "scope": None, "data": "Merino tee II"}]


def test_prod_environment_takes_everything_from_environment_variables(
    project: MeltanoProject, acceptance_sandbox: SandboxProcess
) -> None:
    project.point_at(acceptance_sandbox)

    result = project.run("run", "erp-to-pim", env={"MELTANO_ENVIRONMENT": "prod"})

    assert result.returncode == 0, result.stderr[-4000:]
    identifiers = sorted(p["identifier"] for p in acceptance_sandbox.all_products())
    assert identifiers == ["SKU-100234", "SKU-100235", "SKU-100236"]


def test_wrong_credentials_fail_with_one_clear_line(
    project: MeltanoProject, acceptance_sandbox: SandboxProcess
) -> None:
    project.point_at(acceptance_sandbox)

    result = project.run(
        "run", "tap-erp-xml", "target-akeneo", env={"TARGET_AKENEO_SECRET": "not-the-secret"}
    )

    assert result.returncode != 0
    assert "client_id" in result.stderr
    assert "not-the-secret" not in result.stdout + result.stderr
    assert acceptance_sandbox.all_products() == []


def test_swap_target_tap_erp_xml_into_target_jsonl(project: MeltanoProject) -> None:
    result = project.run("run", "tap-erp-xml", "target-jsonl")

    assert result.returncode == 0, result.stderr[-4000:]
    lines = (project.work / "jsonl" / "products.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["sku"] for r in records] == ["SKU-100234", "SKU-100235", "SKU-100236", "SKU-100237"]
    assert records[0]["name"] == {"en": "Trail runner", "de": "Trailläufer"}


def test_swap_tap_tap_jsonl_into_target_akeneo(project: MeltanoProject) -> None:
    with SandboxProcess(catalog=EXAMPLES / "catalog.json") as sandbox:
        project.point_at(sandbox)

        result = project.run(
            "run",
            "tap-jsonl",
            "target-akeneo",
            env={"TARGET_AKENEO_MAPPING_FILE": str(EXAMPLES / "mapping.yml")},
        )

        assert result.returncode == 0, result.stderr[-4000:]
        products = {p["identifier"]: p for p in sandbox.all_products()}
    assert sorted(products) == ["DEMO-1002", "WEB-9001", "WEB-9002"]
    assert products["WEB-9001"]["values"]["price"] == [
        {"locale": None, "scope": None, "data": [{"amount": "4.50", "currency": "EUR"}]}
    ]


def test_schedule_runs_the_job_nightly(project: MeltanoProject) -> None:
    result = project.run("schedule", "list", "--format=json")

    assert result.returncode == 0, result.stderr
    schedules = json.loads(result.stdout)["schedules"]["job"]
    assert [(s["name"], s["job"]["name"], s["cron_interval"]) for s in schedules] == [
        ("erp-to-pim-nightly", "erp-to-pim", "0 0 * * *")
    ]


def test_demo_exports_load_images_links_categories_then_disable_the_missing_product(
    project: MeltanoProject,
) -> None:
    """scripts/demo.sh's two exports, with the demo's catalog, mapping and environment."""
    project.env["TARGET_AKENEO_MAPPING_FILE"] = str(EXAMPLES / "mapping.yml")
    project.env["MELTANO_ENVIRONMENT"] = "demo"
    with SandboxProcess(catalog=EXAMPLES / "catalog.json") as sandbox:
        project.point_at(sandbox)
        first = run_export(project, "erp")
        assert first.returncode == 0, first.stderr[-4000:]
        products = {p["identifier"]: p for p in sandbox.all_products()}
        images = {
            sku: sandbox.api_get(f"media-files/{p['values']['image'][0]['data']}/download").content
            for sku, p in products.items()
            if "image" in p["values"]
        }
        categories = {
            c["code"]: c["parent"]
            for c in sandbox.api_get("categories", limit=100).json()["_embedded"]["items"]
        }
        uploads_after_first = media_posts(sandbox.stats())

        second = run_export(project, "erp-next")
        assert second.returncode == 0, second.stderr[-4000:]
        enabled = {p["identifier"]: p["enabled"] for p in sandbox.all_products()}
        uploads_after_second = media_posts(sandbox.stats())

    # Ten products exported, two refused by the PIM (an unknown colour, a short EAN).
    assert sorted(products) == [
        f"DEMO-{n}" for n in (1001, 1002, 1003, 2001, 2002, 2003, 3001, 3002)
    ]
    sources = {
        "DEMO-1001": "alpine-boot.png",
        "DEMO-1002": "road-runner.png",
        "DEMO-1003": "trail-gtx.png",
        "DEMO-2001": "merino-base-layer.png",
        "DEMO-2002": "cotton-tee.png",
        "DEMO-2003": "running-singlet.png",
        "DEMO-3001": "sun-cap.png",
        "DEMO-3002": "trail-backpack.png",
    }
    assert images == {
        sku: (EXAMPLES / "images" / name).read_bytes() for sku, name in sources.items()
    }
    # DEMO-1001 links to DEMO-1003, which comes later in the export.
    assert products["DEMO-1001"]["associations"]["X_SELL"]["products"] == [
        "DEMO-1003",
        "DEMO-3002",
    ]
    assert products["DEMO-2002"]["associations"]["UPSELL"]["products"] == ["DEMO-2001"]
    # Paths became categories under master; the ones the catalog had were used as they are.
    assert {
        code: categories[code] for code in ("footwear", "footwear_hiking", "apparel_shirts")
    } == {
        "footwear": "master",
        "footwear_hiking": "footwear",
        "apparel_shirts": "apparel",
    }
    assert sorted(products["DEMO-1001"]["categories"]) == ["footwear_hiking", "winter_2026"]
    assert uploads_after_first == len(sources)
    # The next day's export lacks DEMO-3001: disabled; unchanged images are not sent again.
    assert enabled == {sku: sku != "DEMO-3001" and sku != "DEMO-2002" for sku in products}
    assert uploads_after_second == uploads_after_first
    report = json.loads(project.run_report.read_text(encoding="utf-8"))
    assert (report["missing"], report["missing_disabled"]) == (1, 1)
    assert "disabled 1 product(s) of stream 'products' missing from version" in second.stderr


def run_export(project: MeltanoProject, folder: str) -> subprocess.CompletedProcess[str]:
    """`meltano run` on the demo export in examples/<folder>/."""
    files = json.dumps([str(EXAMPLES / folder / "*.xml")])
    return project.run("run", "tap-erp-xml", "target-akeneo", env={"TAP_ERP_XML_FILES": files})


def media_posts(stats: dict[str, Any]) -> int:
    """Media uploads the sandbox answered."""
    return sum(
        int(row["count"])
        for row in stats["requests"]
        if row["method"] == "POST" and str(row["route"]).endswith("media-files")
    )
