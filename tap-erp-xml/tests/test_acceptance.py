"""The acceptance example of the issue, exactly as written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from tap_erp_xml.testing import run_cli, sync
from tests.support import ACCEPTANCE

EXPECTED_SKU_100234 = {
    "sku": "SKU-100234",
    "erp_id": 100234,
    "status": "active",
    "ean": "4006381333931",
    "group": "SHOES",
    "name": {"en": "Trail runner", "de": "Trailläufer"},
    "description": {"en": "Lightweight trail running shoe & more."},
    "weight": 0.82,
    "weight_unit": "kg",
    "prices": [{"amount": 129.90, "currency": "EUR"}, {"amount": 139.00, "currency": "USD"}],
    "color": "RD",
    "categories": ["shoes_running", "summer_2026"],
    "waterproof": True,
    "release_date": "2026-03-01",
    "updated_at": "2026-11-21T17:04:00+00:00",
}
METADATA = {"_sdc_source_file", "_sdc_source_line", "_sdc_modified_at"}


def test_sku_100234_is_exactly_the_issue_record(acceptance_config: dict[str, Any]) -> None:
    result = sync(acceptance_config)
    by_sku = {r["sku"]: r for r in result.records}
    record = by_sku["SKU-100234"]
    assert {k: v for k, v in record.items() if k not in METADATA} == EXPECTED_SKU_100234
    assert record["_sdc_source_file"] == "erp-products.xml"
    assert record["_sdc_source_line"] == 4
    assert record["_sdc_modified_at"].endswith("+00:00")


def test_all_four_products_with_nulls_for_absent_elements(
    acceptance_config: dict[str, Any],
) -> None:
    result = sync(acceptance_config)
    assert [r["sku"] for r in result.records] == [
        "SKU-100234",
        "SKU-100235",
        "SKU-100236",
        "SKU-100237",
    ]
    cap = result.records[2]
    assert cap["ean"] is None
    assert cap["description"] is None
    assert cap["waterproof"] is None
    assert cap["release_date"] is None
    assert cap["categories"] == []
    assert cap["name"] == {"en": "Sun cap", "de": "Sonnenkappe"}
    tee = result.records[1]
    assert tee["waterproof"] is False
    assert tee["weight"] == 180
    assert tee["prices"] == [{"amount": 49.0, "currency": "EUR"}]
    assert [r["_sdc_source_line"] for r in result.records] == [4, 19, 33, 44]
    assert result.counts["products"].emitted == 4


def test_schema_follows_declared_types(acceptance_config: dict[str, Any]) -> None:
    schema = sync(acceptance_config).schemas[0]
    props = schema["schema"]["properties"]
    assert props["erp_id"]["type"] == ["integer", "null"]
    assert props["weight"]["type"] == ["number", "null"]
    assert props["waterproof"]["type"] == ["boolean", "null"]
    assert props["updated_at"]["format"] == "date-time"
    assert props["release_date"]["format"] == "date"
    assert props["prices"]["items"]["properties"]["amount"]["type"] == ["number", "null"]
    assert props["name"]["additionalProperties"]["type"] == ["string", "null"]
    assert schema["key_properties"] == ["sku"]
    assert schema["bookmark_properties"] == ["updated_at"]


def test_cli_with_the_config_exactly_as_written(tmp_path: Path) -> None:
    """Run from the config's folder: relative files resolve against the working directory."""
    for name in ("tap-config.json", "erp-products.xml"):
        shutil.copy(ACCEPTANCE / name, tmp_path / name)
    run = run_cli(["--config", "tap-config.json"], cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    records = run.messages.records
    assert len(records) == 4
    first = {k: v for k, v in records[0].items() if k not in METADATA}
    assert json.loads(json.dumps(first)) == EXPECTED_SKU_100234
    assert "4 records emitted, 0 skipped" in run.stderr
