"""The field compiler: one generated function per stream, each field shape's records and
errors, and the generated source a developer can read."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from lxml import etree

from tap_erp_xml.errors import ConversionFailure
from tap_erp_xml.fields import compile_fields
from tap_erp_xml.settings import parse_fields
from tap_erp_xml.testing import sync
from tests.support import ACCEPTANCE

NS = {"p": "urn:test"}

FIELDS: dict[str, Any] = {
    "sku": "p:SKU",
    "id": {"path": "@id", "type": "integer"},
    "flag": {"path": "@flag", "type": "boolean"},
    "own_text": ".",
    "name": {"path": "p:Name", "key": "@lang"},
    "size": {"path": "p:Size", "key": "@unit", "type": "number", "decimal_separator": ","},
    "weight": {"path": "p:Weight", "type": "number", "decimal_separator": ","},
    "weight_unit": "p:Weight/@unit",
    "prices": {
        "path": "p:Prices/p:Price",
        "type": "array",
        "fields": {"amount": {"path": ".", "type": "number"}, "currency": "@currency"},
    },
    "tags": {"path": "p:Tag", "type": "array"},
    "codes": {"path": "p:Codes/p:Code", "type": "array", "items": "integer"},
    "day": {"path": "p:Day", "type": "date", "format": "%Y%m%d"},
    "stamp": {"path": "p:Stamp", "type": "date-time"},
    "ok": {"path": "p:Ok", "type": "boolean"},
}


def extract(fields: dict[str, Any], xml: str) -> dict[str, Any]:
    specs = parse_fields(fields, NS, "streams[0].fields")
    elem = etree.fromstring(xml.replace("<r", '<r xmlns:p="urn:test"', 1))
    return compile_fields(specs).extract(elem)


def test_every_usual_shape_on_one_record() -> None:
    record = extract(
        FIELDS,
        """<r id=" 7 " flag="Y">own<p:SKU> A-1 </p:SKU><p:Name lang="en">Shoe</p:Name>
       <p:Name lang=" de ">Schuh</p:Name><p:Size unit="cm">1,5</p:Size>
       <p:Weight unit="kg">0,82</p:Weight><p:Prices><p:Price currency="EUR">1.5</p:Price>
       <p:Price>2</p:Price><p:Other/></p:Prices><p:Tag>a</p:Tag><p:Tag> </p:Tag>
       <p:Tag>b</p:Tag><p:Codes><p:Code>1</p:Code><p:Code/></p:Codes>
       <p:Day>20260301</p:Day><p:Stamp>2026-11-21T18:04:00+01:00</p:Stamp><p:Ok>n</p:Ok></r>""",
    )
    assert record.pop("own_text").startswith("own A-1 Shoe")  # "." is the text content
    assert record == {
        "sku": "A-1",
        "id": 7,
        "flag": True,
        "name": {"en": "Shoe", "de": "Schuh"},
        "size": {"cm": 1.5},
        "weight": 0.82,
        "weight_unit": "kg",
        "prices": [{"amount": 1.5, "currency": "EUR"}, {"amount": 2.0, "currency": None}],
        "tags": ["a", "b"],
        "codes": [1],
        "day": "2026-03-01",
        "stamp": "2026-11-21T17:04:00+00:00",
        "ok": False,
    }
    assert list(record) == [name for name in FIELDS if name != "own_text"]


@pytest.mark.parametrize(
    ("xml", "expected"),
    [
        # nothing at all: one-step arrays are [], absent containers None
        ("<r/>", {"tags": [], "prices": None, "codes": None, "sku": None, "name": None}),
        # empty and blank values are null; an empty container is []
        ('<r id=""><p:SKU/><p:SKU>  </p:SKU><p:Prices/></r>', {"id": None, "prices": []}),
        # the first non-empty match wins
        ("<r><p:SKU></p:SKU><p:SKU>second</p:SKU><p:SKU>third</p:SKU></r>", {"sku": "second"}),
        # mixed content: descendants' text counts
        ("<r><p:SKU>A<b>B</b>C</p:SKU></r>", {"sku": "ABC"}),
        # a keyed value that is empty is kept as null under its key
        ('<r><p:Name lang="en"/><p:Name lang="fr">X</p:Name></r>',
         {"name": {"en": None, "fr": "X"}}),
        # two fields on one element, the second one's attribute on a later element
        ('<r><p:Weight>1</p:Weight><p:Weight unit="g">2</p:Weight></r>',
         {"weight": 1.0, "weight_unit": "g"}),
        # two containers: items of both, in order
        ("<r><p:Codes><p:Code>1</p:Code></p:Codes><p:Codes><p:Code>2</p:Code></p:Codes></r>",
         {"codes": [1, 2]}),
    ],
)  # fmt: skip
def test_edge_cases(xml: str, expected: dict[str, Any]) -> None:
    record = extract(FIELDS, xml)
    assert {k: record[k] for k in expected} == expected


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        ('<r id="x"/>', 'field "id": cannot convert "x" to integer'),
        ("<r flag='maybe'/>", 'field "flag": cannot convert "maybe" to boolean'),
        ("<r><p:Weight>heavy</p:Weight></r>", 'field "weight": cannot convert "heavy" to number'),
        ("<r><p:Prices><p:Price>cheap</p:Price></p:Prices></r>", 'field "prices.amount"'),
        ("<r><p:Codes><p:Code>1.5</p:Code></p:Codes></r>", 'field "codes": cannot convert "1.5"'),
        ("<r><p:Day>2026-03-01</p:Day></r>", 'field "day": cannot convert "2026-03-01" to date'),
        ("<r><p:Stamp>yesterday</p:Stamp></r>", 'field "stamp": cannot convert "yesterday"'),
        ("<r><p:Size unit='cm'>big</p:Size></r>", 'field "size": cannot convert "big" to number'),
        ("<r><p:Name>no language</p:Name></r>", 'field "name": cannot convert "@lang" to an obj'),
        ('<r><p:Name lang=" ">blank</p:Name></r>', "to an object keyed by @lang"),
    ],
)
def test_conversion_errors_name_the_field(xml: str, message: str) -> None:
    with pytest.raises(ConversionFailure, match=message):
        extract(FIELDS, xml)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"x": "p:A/p:B"}, "b1c1"),  # a deeper scalar path (text content)
        ({"x": "*"}, "dea1b1c1b2"),  # a wildcard: the first child element
        ({"x": "*:A/@k"}, "one"),  # any namespace, then an attribute
        ({"x": {"path": "p:A", "key": "p:Lang", "fields": {"v": "p:B"}}}, {"de": {"v": "b1c1"}}),
        ({"x": {"path": "p:A/p:B", "key": "@lang"}}, {"en": "b1c1", "fr": "b2"}),
        ({"x": {"path": "p:A", "type": "array", "fields": {"y": "p:B"}}}, [{"y": "b1c1"}]),
        ({"x": {"path": "p:A/p:B/p:C", "type": "array"}}, ["c1"]),
        ({"x": {"path": "p:A", "fields": {"k": "@k", "b": {"path": "p:B", "type": "array"}}}},
         {"k": "one", "b": ["b1c1", "b2"]}),
        ({"x": {"path": ".", "fields": {"first": "p:A/p:B"}}}, {"first": "b1c1"}),
    ],
)  # fmt: skip
def test_unusual_shapes(fields: dict[str, Any], expected: Any) -> None:
    xml = (
        '<r><p:A k="one"><p:Lang>de</p:Lang>a1<p:B lang="en">b1<p:C>c1</p:C></p:B>'
        '<p:B lang="fr">b2</p:B></p:A></r>'
    )
    assert extract(fields, xml)["x"] == expected


def test_the_generated_source_names_each_field_and_runs_alone() -> None:
    specs = parse_fields({"sku": "p:SKU", "at": "@x"}, NS, "streams[0].fields")
    compiled = compile_fields(specs)
    assert "# 'sku' <- 'p:SKU'" in compiled.source
    assert "# 'at' <- '@x'" in compiled.source
    code = [line for line in compiled.source.splitlines() if not line.lstrip().startswith("#")]
    assert not [line for line in code if "urn:test" in line]  # values are constants, not code
    legend = [line for line in compiled.source.splitlines() if line.startswith("# K")]
    assert any(line.endswith(" = '{urn:test}SKU'") for line in legend)  # listed as comments


def test_a_hostile_field_name_stays_a_name() -> None:
    name = "x'\nraise SystemExit('injected')  # \"\"\""
    specs = parse_fields({name: "p:SKU"}, NS, "streams[0].fields")
    elem = etree.fromstring('<r xmlns:p="urn:test"><p:SKU>A</p:SKU></r>')
    assert compile_fields(specs).extract(elem) == {name: "A"}


def test_debug_log_shows_the_compiled_source(caplog: pytest.LogCaptureFixture) -> None:
    config = json.loads((ACCEPTANCE / "tap-config.json").read_text())
    config["base_dir"] = str(ACCEPTANCE)
    with caplog.at_level(logging.DEBUG):
        sync(config)
    compiled = [r.getMessage() for r in caplog.records if "compiled to" in r.getMessage()]
    assert len(compiled) == 1
    assert "# 'updated_at' <- 'erp:UpdatedAt'" in compiled[0]
