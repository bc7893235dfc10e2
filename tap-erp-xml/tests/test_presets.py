"""Presets: each turns its sample into the documented records, through the tap's CLI; a
stream's own settings and fields are merged over its preset's."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from tap_erp_xml import presets
from tap_erp_xml.errors import ConfigError
from tap_erp_xml.paths import parse_record_path
from tap_erp_xml.reader import RecordReader
from tap_erp_xml.settings import parse_settings
from tap_erp_xml.testing import CliRun, run_cli
from tests.support import ROOT, SAMPLES

FORMATS = ROOT / "tests" / "data" / "formats"
METADATA = ("_sdc_source_file", "_sdc_source_line", "_sdc_modified_at")


def run_preset(tmp_path: Path, file: Path, stream: dict[str, Any]) -> CliRun:
    config = {"files": [str(file)], "streams": [{"name": "products", **stream}]}
    (tmp_path / "config.json").write_text(json.dumps(config))
    run = run_cli(["--config", str(tmp_path / "config.json")], tmp_path)
    assert run.returncode == 0, run.stderr
    return run


def records(run: CliRun) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k not in METADATA} for r in run.messages.records]


MOVANO = {
    "title": "Trekkingrad Movano Premium, schwarz, M",
    "description": 'Leichtes Trekkingrad mit 28"-Laufrädern, Nabendynamo & Gepäckträger.',
    "image_link": "https://shop.example.com/img/movano-premium-blk.jpg",
    "brand": "Movano",
    "condition": "new",
    "google_product_category": "1026",
    "product_type": "Sport > Fahrräder > Trekkingräder",
    "item_group_id": "VS-10042",
}


def test_google_merchant_rss(tmp_path: Path) -> None:
    run = run_preset(tmp_path, FORMATS / "google_merchant_rss.xml", {"preset": "google-merchant"})
    assert records(run) == [
        {
            **MOVANO,
            "id": "VS-10042-BLK-M",
            "link": "https://shop.example.com/p/movano-premium?variant=blk-m",
            "additional_image_link": [
                "https://shop.example.com/img/movano-premium-blk-side.jpg",
                "https://shop.example.com/img/movano-premium-detail.jpg",
            ],
            "price": {"amount": 599.0, "currency": "CZK"},
            "sale_price": {"amount": 549.0, "currency": "CZK"},
            "availability": "in_stock",
            "gtin": "4006381333931",
            "mpn": "MOV-PR-28-M",
        },
        {
            **MOVANO,
            "id": "VS-10042-BLK-L",
            "title": "Trekkingrad Movano Premium, schwarz, L",
            "link": "https://shop.example.com/p/movano-premium?variant=blk-l",
            "additional_image_link": [],
            "price": {"amount": 599.0, "currency": "CZK"},
            "sale_price": None,
            "availability": "out_of_stock",
            "gtin": "4006381333948",
            "mpn": "MOV-PR-28-L",
        },
        {
            "id": "VS-20007",
            "title": 'Fahrradschloss "Secure 900" – Faltschloss',
            "description": "Faltschloss aus gehärtetem Stahl, <b>Sicherheitsstufe 9</b>.",
            "link": "https://shop.example.com/p/secure-900",
            "image_link": "https://shop.example.com/img/secure-900.png",
            "additional_image_link": [],
            "price": {"amount": 1249.5, "currency": "CZK"},
            "sale_price": None,
            "availability": "preorder",
            "brand": "Secure",
            "gtin": None,
            "mpn": "SEC-900",
            "condition": "refurbished",
            "google_product_category": "3618",
            "product_type": "Sport > Fahrradzubehör > Schlösser",
            "item_group_id": None,
        },
    ]
    schema = run.messages.schemas[0]
    assert schema["key_properties"] == ["id"]
    assert schema["schema"]["properties"]["price"]["properties"]["amount"]["type"] == [
        "number",
        "null",
    ]
    assert "matched nothing" not in run.stderr  # the preset's unused fields are not reported


def test_google_merchant_reads_rss_and_atom_files_of_one_stream(tmp_path: Path) -> None:
    other = tmp_path / "not-a-feed.xml"
    other.write_text("<Export><Product/></Export>")
    config = {
        "files": [
            str(FORMATS / "google_merchant_rss.xml"),
            str(FORMATS / "google_merchant_atom.xml"),
            str(other),
        ],
        "streams": [{"name": "products", "preset": "google-merchant"}],
    }
    (tmp_path / "config.json").write_text(json.dumps(config))
    run = run_cli(["--config", str(tmp_path / "config.json")], tmp_path)
    assert run.returncode == 0, run.stderr
    got = {r["id"]: r for r in records(run)}
    assert sorted(got) == ["OS-1001", "OS-1002", "VS-10042-BLK-L", "VS-10042-BLK-M", "VS-20007"]
    assert got["OS-1002"]["description"] == "Mummy sleeping bag, comfort -10 °C."
    assert got["OS-1002"]["link"] == "https://outdoor.example.org/polar-10"
    assert got["VS-20007"]["link"] == "https://shop.example.com/p/secure-900"
    # One warning, for the file neither layout matches, naming both.
    assert run.stderr.count("no element matched") == 1
    assert (
        "not-a-feed.xml: no element matched record_path '/rss/channel/item' or '/feed/entry'"
        in (run.stderr)
    )


def test_two_record_paths_tell_sibling_records_apart() -> None:
    paths = [parse_record_path(p, {}, "record_path") for p in ("/feed/item", "/feed/entry")]
    xml = b"<feed><item>1</item><entry>2</entry><other>x</other><item>3</item></feed>"
    found = RecordReader(paths, None).matches(io.BytesIO(xml), "feed.xml")
    assert [(index, elem.text) for index, elem in found] == [(0, "1"), (1, "2"), (0, "3")]


@pytest.mark.parametrize("name", ["google-merchant", "google-merchant-atom"])
def test_google_merchant_atom_and_own_fields_added(tmp_path: Path, name: str) -> None:
    stream = {"preset": name, "fields": {"feed_title": "title"}}
    run = run_preset(tmp_path, FORMATS / "google_merchant_atom.xml", stream)
    got = records(run)
    assert [r["id"] for r in got] == ["OS-1001", "OS-1002"]
    assert got[1] == {
        "id": "OS-1002",
        "title": "Sleeping bag Polar -10",
        "description": "Mummy sleeping bag, comfort -10 °C.",
        "link": "https://outdoor.example.org/polar-10",
        "image_link": "https://outdoor.example.org/img/polar10.jpg",
        "additional_image_link": [],
        "price": {"amount": 179.0, "currency": "EUR"},
        "sale_price": {"amount": 159.0, "currency": "EUR"},
        "availability": "backorder",
        "brand": "Polar",
        "gtin": None,
        "mpn": "PL-10-R",
        "condition": "new",
        "google_product_category": "1013",
        "product_type": "Camping > Sleeping bags",
        "item_group_id": None,
        "feed_title": "Sleeping bag Polar -10",
    }
    assert got[0]["google_product_category"] == (
        "Sporting Goods > Outdoor Recreation > Camping & Hiking > Tents"
    )
    assert got[0]["price"] == {"amount": 249.99, "currency": "EUR"}


TRAIL_RUNNER = {
    "material": "000000000000100234",
    "material_type": "FERT",
    "industry_sector": "M",
    "material_group": "SHOES01",
    "base_unit": "ST",
    "gross_weight": 0.95,
    "net_weight": 0.82,
    "weight_unit": "KGM",
    "ean": "4006381333931",
    "status": "Z1",
    "created_on": "2024-01-15",
    "changed_on": "2026-11-20",
    "descriptions": {"EN": "Trail runner", "DE": "Trailläufer"},
    "long_texts": {
        "EN": "Lightweight trail running shoe with a grippy outsole & more.",
        "DE": "Leichter Trailschuh mit griffiger Sohle.",
    },
    "eans": ["4006381333931", "4006381333955"],
    "units": [
        {"unit": "ST", "numerator": 1, "denominator": 1, "ean": "4006381333931",
         "gross_weight": 0.95, "weight_unit": "KGM"},
        {"unit": "KAR", "numerator": 12, "denominator": 1, "ean": "4006381333955",
         "gross_weight": 12.1, "weight_unit": "KGM"},
    ],
    "plants": [
        {"plant": "1000", "status": "01", "status_valid_from": "2026-01-01",
         "purchasing_group": "001", "mrp_type": "PD", "delivery_days": 5},
        {"plant": "2000", "status": None, "status_valid_from": None,
         "purchasing_group": "002", "mrp_type": "VB", "delivery_days": 12},
    ],
}  # fmt: skip
SUN_CAP = {
    "material": "000000000000100236",
    "material_type": "HAWA",
    "industry_sector": "M",
    "material_group": "ACC02",
    "base_unit": "ST",
    "gross_weight": 0.11,
    "net_weight": 0.095,
    "weight_unit": "KGM",
    "ean": None,
    "status": None,
    "created_on": "2025-03-02",
    "changed_on": None,  # 00000000
    "descriptions": {"EN": "Sun cap"},
    "long_texts": None,
    "eans": [],
    "units": [{"unit": "ST", "numerator": 1, "denominator": 1, "ean": None,
               "gross_weight": 0.11, "weight_unit": "KGM"}],
    "plants": [{"plant": "1000", "status": None, "status_valid_from": None,
                "purchasing_group": "001", "mrp_type": "ND", "delivery_days": 3}],
}  # fmt: skip


def test_sap_matmas05(tmp_path: Path) -> None:
    run = run_preset(tmp_path, FORMATS / "sap_matmas05.xml", {"preset": "sap-matmas"})
    assert records(run) == [TRAIL_RUNNER, SUN_CAP]
    assert run.messages.schemas[0]["key_properties"] == ["material"]


def test_sap_customer_extension_with_own_fields_added_and_replaced(tmp_path: Path) -> None:
    stream = {
        "preset": "sap-matmas",
        "fields": {
            "brand": "Z1MARAPIM/ZZBRAND",
            "webshop": {"path": "Z1MARAPIM/ZZWEBSHOP", "type": "boolean"},
            "ean": {"path": "EAN11", "null_values": []},  # replaces the preset's field
        },
    }
    run = run_preset(tmp_path, FORMATS / "sap_zmatmas05_extension.xml", stream)
    extra = {"brand": "TRAILCO", "webshop": True}
    assert records(run) == [{**TRAIL_RUNNER, **extra}, {**SUN_CAP, **extra}]


def test_every_preset_is_valid_and_documented() -> None:
    readme = (ROOT / "tap-erp-xml" / "README.md").read_text()
    for name in presets.NAMES:
        settings = parse_settings({"files": ["x.xml"], "streams": [{"name": "s", "preset": name}]})
        assert settings.streams[0].fields, name
        assert f"`{name}`" in readme, name
        assert (ROOT / "examples" / "presets" / f"{name}.yml").is_file(), name


@pytest.mark.parametrize(
    ("stream", "message"),
    [
        ({"preset": "sap"}, "streams[0].preset: 'sap' is not one of ['bmecat-1.2', 'bmecat-2005'"),
        ({}, "streams[0]: 'record_path' is a required property (or give a preset)"),
        ({"preset": "sap-matmas", "fields": {"plants": {"path": "E1MARCM", "type": "objekt"}}},
         "streams[0].fields.plants.type: 'objekt' is not one of"),
        ({"preset": "sap-matmas", "key_properties": ["matnr"]},
         'streams[0].key_properties: "matnr" is not a declared field'),
    ],
)  # fmt: skip
def test_preset_mistakes_are_one_line_errors(stream: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings({"files": ["x.xml"], "streams": [{"name": "s", **stream}]})
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("language", "title", "category", "feature", "expected"),
    [
        ("en", "Samsung Galaxy S7 SM-G930F Single SIM 4G 32GB Black", "smartphones",
         "Display diagonal", {"value": "5.1", "presentation": '12.9 cm (5.1")', "unit": '"'}),
        ("de", "Samsung Galaxy S7 SM-G930F Single SIM 4G 32GB Schwarz", "Smartphones",
         "Bildschirmdiagonale",
         {"value": "5.1", "presentation": "12,9 cm (5.1 Zoll)", "unit": "Zoll"}),
        ("fr", None, None, None, None),
    ],
)  # fmt: skip
def test_icecat_in_each_language(
    tmp_path: Path,
    language: str,
    title: str | None,
    category: str | None,
    feature: str | None,
    expected: dict[str, Any] | None,
) -> None:
    sample = SAMPLES / f"icecat_8806088281285_{language}.xml"
    [product] = records(run_preset(tmp_path, sample, {"preset": "icecat"}))
    features = product.pop("features")
    assert len(features) == 139
    assert {k: product[k] for k in ("icecat_id", "mpn", "name", "brand", "ean", "eans")} == {
        "icecat_id": "31040076",
        "mpn": "SM-G930FZKAPHN",
        "name": "SM-G930F",
        "brand": "Samsung",
        "ean": "8806088281285",
        "eans": ["8806088281285"],
    }
    assert product["release_date"] == "2016-02-22"
    assert (product["product_family"], product["series"]) == ("Galaxy", "S7")
    assert product["images"][0].startswith("http://images.icecat.biz/img/gallery/")
    if title is not None:
        assert product["title"] == title
        assert product["category"] == category
        assert features[feature] == expected
    else:  # French: the same product, its own words
        assert product["title"].startswith("Samsung Galaxy S7 SM-G930F")
        assert all(set(v) == {"value", "presentation", "unit"} for v in features.values())


def test_bmecat_12(tmp_path: Path) -> None:
    sample = SAMPLES / "bmecat12_kstools_crossbase.xml"
    [article] = records(run_preset(tmp_path, sample, {"preset": "bmecat-1.2"}))
    assert article.pop("description_long").startswith('<ul><li class="liste">ideale')
    features, mime, references = (
        article.pop("features"),
        article.pop("mime"),
        article.pop("references"),
    )
    assert article == {
        "supplier_aid": "100.1180",
        "description_short": "RDKS / TPMS Werkzeug-Satz für Reifendruck-Kontrollsysteme, 13-tlg.",
        "ean": "4042146228586",
        "manufacturer_name": "KS Tools",
        "manufacturer_pid": "100.1180",
        "manufacturer_type_description": None,
        "keywords": ["Automobilwerkzeuge", "Autowerkstatt", "KFZ", "KFZ-Werkzeuge", "Räder",
                     "Reifen"],
        "delivery_time": 3.0,
        "order_unit": "C62",
        "content_unit": "C62",
        "units_per_order_unit": 1.0,
        "price_quantity": 1.0,
        "quantity_min": None,
        "prices": [{"type": "udp_dummy", "amount": 255.97, "currency": "EUR", "tax": 0.19,
                    "lower_bound": None}],
        "classification_system": "udf_CMP-1.0",
        "classification_class": None,
    }  # fmt: skip
    assert len(features) == 9
    assert features["Breite B"] == {"value": "188.0", "unit": "mm"}
    assert features["Gewicht in g"] == {"value": "2200", "unit": "g"}
    assert len(mime) == 9
    assert mime[0] == {
        "type": "image/jpeg",
        "source": "FOT_PRO_ALG_AUTO_100.1180.1_SALL_AING_V1.jpg",
        "description": "Medienelementstruktur",
        "purpose": "detail",
    }
    assert references[0] == {"type": "consists_of", "to": "150.2022", "quantity": 1.0}


def test_bmecat_2005_with_the_ontology_features_replaced(tmp_path: Path) -> None:
    sample = SAMPLES / "bmecat2005_weidmueller_1020000000.xml"
    # Weidmüller writes BMEcat 2005 with the ontology extension: feature names in FTEMPLATE.
    features = {
        "path": "*:PRODUCT_FEATURES/*:FEATURE",
        "key": "*:FTEMPLATE/*:FT_NAME",
        "fields": {"value": "*:FVALUE", "unit": "*:FUNIT"},
    }
    stream = {"preset": "bmecat-2005", "fields": {"features": features}}
    [product] = records(run_preset(tmp_path, sample, stream))
    got_features, references = product.pop("features"), product.pop("references")
    assert product == {
        "supplier_pid": "1020000000",
        "description_short": "Durchgangs-Reihenklemme",
        "description_long": (
            "Durchgangs-Reihenklemme, Schraubanschluss, 2.5 mm&sup2;, 800 V, 24 A, dunkelbeige"
        ),
        "ean": "4008190099633",
        "international_pids": [],
        "manufacturer_name": "Weidmueller Group",
        "manufacturer_pid": "1020000000",
        "manufacturer_type_description": "WDU 2.5",
        "keywords": ["Anschlussbaustein", "Leitungsverbinder", "Durchgangsreihenklemme",
                     "Durchgangsklemme", "Durchgangs-Reihenklemme", "Feed-through terminal block"],
        "delivery_time": None,
        "order_unit": "C62",
        "content_unit": "C62",
        "units_per_order_unit": None,
        "price_quantity": None,
        "quantity_min": None,
        "prices": [{"type": "net_customer", "amount": None, "currency": None, "tax": None,
                    "lower_bound": 100.0}],
        "classification_system": "ECLASS-9.0",
        "classification_class": "27141120",
        "mime": [{"type": "url", "source": (
            "http://catalog.weidmueller.com/cgi-bin/cm_syb.exe?Startup=externalAccess&UserID="
            "webuser&Password=webuser&UserLang=en&CatalogStyle=pure&Caller=web&ObjectID=1020000000"
        ), "description": "Deeplink", "purpose": "data_sheet"}],
    }  # fmt: skip
    assert got_features["Nettogewicht"] == {"value": "0.00751", "unit": None}
    assert len(got_features) == 10
    assert len(references) == 28
    assert references[0] == {"type": "accessories", "to": "1053660000", "quantity": None}


def test_bmecat_2005_plain_features_need_fname(tmp_path: Path, write_config: Any) -> None:
    sample = SAMPLES / "bmecat2005_weidmueller_1020000000.xml"
    config = {"files": [str(sample)], "streams": [{"name": "p", "preset": "bmecat-2005"}]}
    run = run_cli(["--config", str(write_config(config))], tmp_path)
    assert run.returncode == 1
    assert 'field "features": cannot convert "*:FNAME" to an object keyed by *:FNAME' in run.stderr
