"""End to end: each preset's sample through `meltano run tap-erp-xml target-akeneo` into a real
akeneo-sandbox, with the preset's example mapping and a PIM structure matching it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from akeneo_sandbox.testing import SandboxProcess
from tests.support import EXAMPLES, ROOT, MeltanoProject

pytestmark = pytest.mark.e2e

FORMATS = ROOT / "tests" / "data" / "formats"
PRESETS = EXAMPLES / "presets"


def load(project: MeltanoProject, preset: str, stream: str, file: str) -> dict[str, Any]:
    """Run the pipeline once on ``file``; the sandbox's products by identifier."""
    with SandboxProcess(catalog=PRESETS / f"{preset}.catalog.json") as sandbox:
        project.point_at(sandbox)
        result = project.run(
            "run",
            "tap-erp-xml",
            "target-akeneo",
            env={
                "TAP_ERP_XML_FILES": json.dumps([str(FORMATS / file)]),
                "TAP_ERP_XML_STREAMS": json.dumps([{"name": stream, "preset": preset}]),
                "TARGET_AKENEO_MAPPING_FILE": str(PRESETS / f"{preset}.yml"),
            },
        )
        assert result.returncode == 0, result.stderr[-4000:]
        assert project.dead_letters() == []
        return {p["identifier"]: p for p in sandbox.all_products()}


def data(product: dict[str, Any]) -> dict[str, Any]:
    """Attribute -> data, or (locale, scope) -> data for localizable/scopable attributes."""
    shown: dict[str, Any] = {}
    for code, entries in product["values"].items():
        if len(entries) == 1 and entries[0]["locale"] is None and entries[0]["scope"] is None:
            shown[code] = entries[0]["data"]
        else:
            shown[code] = {(e["locale"], e["scope"]): e["data"] for e in entries}
    shown.pop("sku", None)
    return shown


def test_google_merchant_feed_into_the_pim(project: MeltanoProject) -> None:
    products = load(project, "google-merchant", "merchant", "google_merchant_rss.xml")
    assert sorted(products) == ["VS-10042-BLK-L", "VS-10042-BLK-M", "VS-20007"]
    assert {p["family"] for p in products.values()} == {"merchant_products"}
    assert data(products["VS-10042-BLK-M"]) == {
        "name": {("de_DE", None): "Trekkingrad Movano Premium, schwarz, M"},
        "description": {
            ("de_DE", "ecommerce"): (
                'Leichtes Trekkingrad mit 28"-Laufrädern, Nabendynamo & Gepäckträger.'
            )
        },
        "ean": "4006381333931",
        "mpn": "MOV-PR-28-M",
        "brand": "Movano",
        "price": [{"amount": "599.00", "currency": "CZK"}],
        "sale_price": [{"amount": "549.00", "currency": "CZK"}],
        "product_url": "https://shop.example.com/p/movano-premium?variant=blk-m",
        "image_url": "https://shop.example.com/img/movano-premium-blk.jpg",
        "availability": "in_stock",
        "condition": "new",
        "google_product_category": "1026",
        "product_type": "Sport > Fahrräder > Trekkingräder",
        "item_group": "VS-10042",
    }
    lock = data(products["VS-20007"])
    assert lock["price"] == [{"amount": "1249.50", "currency": "CZK"}]
    assert "sale_price" not in lock  # absent in the feed: not sent
    assert "ean" not in lock
    assert lock["availability"] == "preorder"


def test_sap_matmas_idocs_into_the_pim(project: MeltanoProject) -> None:
    products = load(project, "sap-matmas", "materials", "sap_zmatmas05_extension.xml")
    assert sorted(products) == ["000000000000100234", "000000000000100236"]
    runner, cap = products["000000000000100234"], products["000000000000100236"]
    assert (runner["family"], cap["family"]) == ("finished_goods", "trading_goods")
    assert data(runner) == {
        "name": {("en_US", None): "Trail runner", ("de_DE", None): "Trailläufer"},
        "description": {
            ("en_US", None): "Lightweight trail running shoe with a grippy outsole & more.",
            ("de_DE", None): "Leichter Trailschuh mit griffiger Sohle.",
        },
        "ean": "4006381333931",
        "material_group": "SHOES01",
        "base_unit": "ST",
        "gross_weight": {"amount": "0.95", "unit": "KILOGRAM"},
        "net_weight": {"amount": "0.82", "unit": "KILOGRAM"},
        "changed_on": "2026-11-20T00:00:00+00:00",
    }
    assert data(cap)["name"] == {("en_US", None): "Sun cap"}
    assert "changed_on" not in data(cap)  # 00000000 is null: nothing sent
