"""End to end: the two-file setup of `examples/two-files/` (master data + prices with
`create: false`) through `meltano run` into a real sandbox, then a re-run reading both files
again that writes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from akeneo_sandbox.testing import SandboxProcess
from tests.support import EXAMPLES, MeltanoProject, product_requests

pytestmark = pytest.mark.e2e

TWO_FILES = EXAMPLES / "two-files"


def values(product: dict[str, Any]) -> dict[str, Any]:
    return {
        code: entries[0]["data"] if len(entries) == 1 else {e["locale"]: e["data"] for e in entries}
        for code, entries in product["values"].items()
        if code != "sku"
    }


def test_master_data_and_prices_files_merge_and_rerun_sends_nothing(
    project: MeltanoProject, acceptance_sandbox: SandboxProcess
) -> None:
    project.point_at(acceptance_sandbox)
    project.env.update(
        TAP_ERP_XML_STREAMS=(TWO_FILES / "tap-streams.json").read_text(encoding="utf-8"),
        TARGET_AKENEO_MAPPING_FILE=str(TWO_FILES / "mapping.yml"),
    )

    first = project.run("run", "tap-erp-xml", "target-akeneo")

    assert first.returncode == 0, first.stderr[-4000:]
    products = {p["identifier"]: p for p in acceptance_sandbox.all_products()}
    assert sorted(products) == ["TF-1001", "TF-1002", "TF-1003"]  # TF-9999: prices only
    assert values(products["TF-1002"]) == {
        "name": "Road runner",
        "weight": {"amount": "640", "unit": "GRAM"},
        "price": [{"amount": "99.00", "currency": "USD"}],
        "stock": 0,
    }
    assert values(products["TF-1001"])["name"] == {"en_US": "Trail runner", "de_DE": "Trailläufer"}
    assert products["TF-1002"]["categories"] == ["shoes_running", "summer_2026"]
    report = json.loads(project.run_report.read_text(encoding="utf-8"))
    assert report["streams"]["products"]["created"] == 3
    assert report["streams"]["prices"]["updated"] == 3
    assert report["skipped_missing"] == 1
    assert project.dead_letters() == []
    writes = product_requests(acceptance_sandbox.stats())

    again = project.run("run", "--full-refresh", "tap-erp-xml", "target-akeneo")

    assert again.returncode == 0, again.stderr[-4000:]
    report = json.loads(project.run_report.read_text(encoding="utf-8"))
    assert report["received"] == 7  # both files read again
    assert report["unchanged"] == 6
    assert report["skipped_missing"] == 1
    assert product_requests(acceptance_sandbox.stats()) == writes  # no product write at all
    assert {p["identifier"]: p for p in acceptance_sandbox.all_products()} == products
