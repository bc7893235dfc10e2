"""Real third-party product XML (tests/data/samples): configs for each, asserting contents."""

from __future__ import annotations

from typing import Any

from tap_erp_xml.testing import sync
from tests.support import SAMPLES

BMECAT_NS = "http://www.bmecat.org/bmecat/1.2/bmecat_new_catalog"
ONIX_NS = "http://ns.editeur.org/onix/3.0/reference"


def config_for(file: str, stream: dict[str, Any]) -> dict[str, Any]:
    return {"files": [file], "base_dir": str(SAMPLES), "streams": [stream]}


def test_bmecat_12_article_with_doctype_internal_subset() -> None:
    stream = {
        "name": "articles",
        "record_path": "/bm:BMECAT/bm:T_NEW_CATALOG/bm:ARTICLE",
        "namespaces": {"bm": BMECAT_NS},
        "key_properties": ["supplier_aid"],
        "fields": {
            "supplier_aid": "bm:SUPPLIER_AID",
            "mode": "@mode",
            "short": "bm:ARTICLE_DETAILS/bm:DESCRIPTION_SHORT",
            "long": "bm:ARTICLE_DETAILS/bm:DESCRIPTION_LONG",
            "ean": "bm:ARTICLE_DETAILS/bm:EAN",
            "delivery_days": {"path": "bm:ARTICLE_DETAILS/bm:DELIVERY_TIME", "type": "integer"},
            "keywords": {"path": "bm:ARTICLE_DETAILS/bm:KEYWORD", "type": "array"},
            "features": {
                "path": "bm:ARTICLE_FEATURES/bm:FEATURE",
                "type": "array",
                "fields": {"name": "bm:FNAME", "value": "bm:FVALUE", "unit": "bm:FUNIT"},
            },
            "references": {
                "path": "bm:ARTICLE_REFERENCE",
                "type": "array",
                "fields": {
                    "to": "bm:ART_ID_TO",
                    "type": "@type",
                    "quantity": {"path": "@quantity", "type": "integer"},
                },
            },
            "katbez2": "bm:USER_DEFINED_EXTENSIONS/bm:UDX.KST.KATBEZ2",
        },
    }
    result = sync(config_for("bmecat12_kstools_crossbase.xml", stream))
    assert len(result.records) == 1
    article = result.records[0]
    assert article["supplier_aid"] == "100.1180"
    assert article["mode"] == "new"
    assert article["short"].startswith("RDKS / TPMS Werkzeug-Satz für Reifendruck")
    assert article["long"].startswith('<ul><li class="liste">ideale Zusammenstellung')
    assert article["ean"] == "4042146228586"
    assert article["delivery_days"] == 3
    assert article["keywords"][:3] == ["Automobilwerkzeuge", "Autowerkstatt", "KFZ"]
    assert "Räder" in article["keywords"]
    assert article["features"][0] == {"name": "Breite B", "value": "188.0", "unit": "mm"}
    assert article["features"][1]["unit"] is None
    assert article["references"][0] == {"to": "150.2022", "type": "consists_of", "quantity": 1}
    assert len(article["references"]) == 13
    assert article["katbez2"].startswith("RDKS / TPMS Werkzeug-Satz")


def test_onix_30_default_namespace_21_products() -> None:
    stream = {
        "name": "books",
        "record_path": "/ONIXMessage/Product",
        "namespaces": {"": ONIX_NS},
        "key_properties": ["record_reference"],
        "fields": {
            "record_reference": "RecordReference",
            "title": "DescriptiveDetail/TitleDetail/TitleElement/TitleWithoutPrefix",
            "title_text": "DescriptiveDetail/TitleDetail/TitleElement/TitleText",
            "identifiers": {
                "path": "ProductIdentifier",
                "key": "ProductIDType",
                "fields": {"value": "IDValue"},
            },
            "texts": {"path": "CollateralDetail/TextContent/Text", "type": "array"},
            "prices": {
                "path": "ProductSupply/SupplyDetail/Price",
                "type": "array",
                "fields": {
                    "amount": {"path": "PriceAmount", "type": "number"},
                    "currency": "CurrencyCode",
                },
            },
            "height_mm": {"path": "DescriptiveDetail/Measure/Measurement", "type": "number"},
            "publishing_date": {
                "path": "PublishingDetail/PublishingDate/Date",
                "type": "date",
                "format": "%Y%m%d",
            },
        },
    }
    result = sync(config_for("onix30_macmillan_au_multiple_iso8859-1.xml", stream))
    books = result.records
    assert len(books) == 21
    first = books[0]
    assert first["record_reference"] == "9781509854172"
    assert first["title"] == "147 Things"
    assert first["identifiers"]["15"] == {"value": "9781509854172"}
    assert first["prices"] == [{"amount": 19.99, "currency": "AUD"}]
    assert first["height_mm"] == 197
    assert first["publishing_date"] == "2019-06-01"
    by_ref = {b["record_reference"]: b for b in books}
    assert by_ref["9781509886036"]["prices"] == [
        {"amount": 39.99, "currency": "AUD"},
        {"amount": 44.99, "currency": "NZD"},
    ]
    texts = " ".join(t for b in books for t in b["texts"] or [])
    assert "Born in Montréal, Canada" in texts
    assert "a mare for £350" in texts
    assert "working men’s club" in texts
    assert sum(len(b["prices"]) for b in books) == 42
    assert len({b["_sdc_source_line"] for b in books}) == 21


def test_netsuite_soap_namespaces_declared_on_inner_elements() -> None:
    core = "urn:core_2012_1.platform.webservices.netsuite.com"
    stream = {
        "name": "items",
        "record_path": "//core:searchRow",
        "namespaces": {
            "core": core,
            "acct": "urn:accounting_2012_1.lists.webservices.netsuite.com",
            "common": "urn:common_2012_1.platform.webservices.netsuite.com",
            "xsi": "http://www.w3.org/2001/XMLSchema-instance",
        },
        "fields": {
            "row_type": "@xsi:type",
            "internal_id": {
                "path": "acct:basic/common:internalId/core:searchValue/@internalId",
                "type": "integer",
            },
            "sku": "acct:basic/common:itemId/core:searchValue",
            "available": {
                "path": "acct:basic/common:locationQuantityAvailable/core:searchValue",
                "type": "number",
            },
            "department": "acct:basic/common:department/core:searchValue/@internalId",
            "custom": {
                "path": "acct:basic/common:customFieldList/core:customField",
                "key": "@internalId",
                "fields": {"type": "@xsi:type", "value_id": "core:searchValue/@internalId"},
            },
        },
    }
    result = sync(config_for("netsuite_soap_saved_search_item.xml", stream))
    rows = result.records
    assert len(rows) == 49
    assert rows[0]["row_type"] == "listAcct:ItemSearchRow"
    assert rows[0]["internal_id"] == 123
    assert rows[0]["sku"] == "9781945179761"
    assert rows[0]["available"] == 2.0
    assert rows[0]["department"] == "114"
    assert rows[0]["custom"]["custitem_productline"]["value_id"] == "78"
    assert rows[5]["sku"] == "9781945179600"
    assert rows[5]["internal_id"] is None
    assert rows[5]["available"] == 11334.0
    assert all(r["sku"] for r in rows)


def test_icecat_with_external_doctype_parsed_without_fetching() -> None:
    stream = {
        "name": "icecat",
        "record_path": "/ICECAT-interface/Product",
        "key_properties": ["icecat_id"],
        "fields": {
            "icecat_id": {"path": "@ID", "type": "integer"},
            "sku": "@Prod_id",
            "title": "@Title",
            "release_date": {"path": "@ReleaseDate", "type": "date"},
            "ean": "EANCode/@EAN",
            "features": {
                "path": "ProductFeature",
                "key": "@CategoryFeature_ID",
                "fields": {"value": "@Value", "shown": "@Presentation_Value"},
            },
        },
    }
    config = {
        "files": ["icecat_8806088281285_*.xml"],
        "base_dir": str(SAMPLES),
        "streams": [stream],
    }
    result = sync(config)
    assert [r["_sdc_source_file"] for r in result.records] == [
        "icecat_8806088281285_de.xml",
        "icecat_8806088281285_en.xml",
        "icecat_8806088281285_fr.xml",
    ]
    german = result.records[0]
    assert german["icecat_id"] == 31040076
    assert german["sku"] == "SM-G930FZKAPHN"
    assert german["title"].startswith("Samsung Galaxy S7 SM-G930F")
    assert german["release_date"] == "2016-02-22"
    assert german["ean"] == "8806088281285"
    assert german["features"]["51494"] == {"value": "5.1", "shown": "12,9 cm (5.1 Zoll)"}
    assert {r["ean"] for r in result.records} == {"8806088281285"}
