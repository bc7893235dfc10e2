"""End to end: each preset's sample through `meltano run tap-erp-xml target-akeneo` into a real
akeneo-sandbox, with the preset's example mapping and a PIM structure matching it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from akeneo_sandbox.testing import SandboxProcess
from tests.support import EXAMPLES, ROOT, SAMPLES, MeltanoProject

pytestmark = pytest.mark.e2e

FORMATS = ROOT / "tests" / "data" / "formats"
PRESETS = EXAMPLES / "presets"


def load(
    project: MeltanoProject,
    preset: str,
    stream: str,
    file: Path,
    catalog: str | None = None,
    **definition: Any,
) -> dict[str, Any]:
    """Run the pipeline once on ``file``; the sandbox's products by identifier."""
    with SandboxProcess(catalog=PRESETS / f"{catalog or preset}.catalog.json") as sandbox:
        project.point_at(sandbox)
        result = project.run(
            "run",
            "tap-erp-xml",
            "target-akeneo",
            env={
                "TAP_ERP_XML_FILES": json.dumps([str(file)]),
                "TAP_ERP_XML_STREAMS": json.dumps(
                    [{"name": stream, "preset": preset, **definition}]
                ),
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
    products = load(project, "google-merchant", "merchant", FORMATS / "google_merchant_rss.xml")
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
    products = load(project, "sap-matmas", "materials", FORMATS / "sap_zmatmas05_extension.xml")
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


def test_bmecat_12_catalog_into_the_pim(project: MeltanoProject) -> None:
    sample = SAMPLES / "bmecat12_kstools_crossbase.xml"
    products = load(project, "bmecat-1.2", "bmecat", sample, catalog="products")
    assert sorted(products) == ["100.1180"]
    shown = data(products["100.1180"])
    assert shown.pop("description")[("de_DE", "ecommerce")].startswith('<ul><li class="liste">')
    assert shown == {
        "name": {
            ("de_DE", None): "RDKS / TPMS Werkzeug-Satz für Reifendruck-Kontrollsysteme, 13-tlg."
        },
        "ean": "4042146228586",
        "brand": "KS Tools",
        "mpn": "100.1180",
        "price": [{"amount": "255.97", "currency": "EUR"}],
    }


def test_bmecat_2005_catalog_into_the_pim(project: MeltanoProject) -> None:
    sample = SAMPLES / "bmecat2005_weidmueller_1020000000.xml"
    features = {"path": "*:PRODUCT_FEATURES/*:FEATURE", "key": "*:FTEMPLATE/*:FT_NAME",
                "fields": {"value": "*:FVALUE"}}  # fmt: skip
    products = load(project, "bmecat-2005", "bmecat", sample, catalog="products",
                    fields={"features": features})  # fmt: skip
    assert data(products["1020000000"]) == {
        "name": {("de_DE", None): "Durchgangs-Reihenklemme"},
        "description": {
            ("de_DE", "ecommerce"): (
                "Durchgangs-Reihenklemme, Schraubanschluss, 2.5 mm&sup2;, 800 V, 24 A, dunkelbeige"
            )
        },
        "ean": "4008190099633",
        "brand": "Weidmueller Group",
        "mpn": "1020000000",
    }  # fmt: skip  (its one price has no amount: no price is sent)


def test_icecat_product_into_the_pim(project: MeltanoProject) -> None:
    sample = SAMPLES / "icecat_8806088281285_en.xml"
    products = load(project, "icecat", "icecat", sample, catalog="products")
    shown = data(products["SM-G930FZKAPHN"])
    assert shown == {
        "name": {("en_US", None): "Samsung Galaxy S7 SM-G930F Single SIM 4G 32GB Black"},
        "description": {("en_US", "ecommerce"): "This is the en_US long summary description"},
        "ean": "8806088281285",
        "brand": "Samsung",
        "release_date": "2016-02-22T00:00:00+00:00",
        "image_url": "http://images.icecat.biz/img/gallery/pic1.jpg",
    }
