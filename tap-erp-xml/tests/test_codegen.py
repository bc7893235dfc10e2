"""The generated extractor (codegen.py) against the general compiler (fields.py).

Both must give the same record, with keys in the same order, or the same conversion error,
for every element: edge cases written for this test, the acceptance export and the
generated benchmark shape.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from lxml import etree
from tap_helpers import ACCEPTANCE

from tap_erp_xml.codegen import compile_record
from tap_erp_xml.config import parse_fields
from tap_erp_xml.errors import ConversionFailure
from tap_erp_xml.fields import FieldCompiler

NS = {"p": "urn:test"}

# Every shape the generator supports, several fields per tag, arrays of objects.
FIELDS: dict[str, Any] = {
    "sku": "p:SKU",
    "id": {"path": "@id", "type": "integer"},
    "flag": {"path": "@flag", "type": "boolean"},
    "own_text": ".",
    "name": {"path": "p:Name", "key": "@lang"},
    "size": {"path": "p:Size", "key": "@unit", "type": "number", "decimal_separator": ","},
    "weight": {"path": "p:Weight", "type": "number", "decimal_separator": ","},
    "weight_unit": "p:Weight/@unit",
    "weight_again": "p:Weight",
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

RECORDS = [
    # the full shape, with whitespace to strip
    """<r id=" 7 " flag="Y">own<p:SKU> A-1 </p:SKU><p:Name lang="en">Shoe</p:Name>
       <p:Name lang=" de ">Schuh</p:Name><p:Size unit="cm">1,5</p:Size>
       <p:Weight unit="kg">0,82</p:Weight><p:Prices><p:Price currency="EUR">1.5</p:Price>
       <p:Price>2</p:Price><p:Other/></p:Prices><p:Tag>a</p:Tag><p:Tag> </p:Tag>
       <p:Tag>b</p:Tag><p:Codes><p:Code>1</p:Code><p:Code/></p:Codes>
       <p:Day>20260301</p:Day><p:Stamp>2026-11-21T18:04:00+01:00</p:Stamp><p:Ok>n</p:Ok></r>""",
    # nothing at all: arrays of one step are [], containers absent give None
    "<r/>",
    # empty and blank values, an empty container
    '<r id=""><p:SKU/><p:SKU>  </p:SKU><p:Weight unit=""> </p:Weight><p:Prices/></r>',
    # first non-empty match wins; a later value does not overwrite
    "<r><p:SKU></p:SKU><p:SKU>second</p:SKU><p:SKU>third</p:SKU></r>",
    # mixed content: descendants' text counts
    "<r><p:SKU>A<b>B</b>C</p:SKU><p:Name lang='en'>x<i>y</i></p:Name></r>",
    # a keyed value that is empty is kept as null under its key
    '<r><p:Name lang="en"/><p:Name lang="fr">Chaussure</p:Name></r>',
    # the first Weight has no unit, the second has one
    '<r><p:Weight>1</p:Weight><p:Weight unit="g">2</p:Weight></r>',
    # two containers: items of both, in order
    "<r><p:Codes><p:Code>1</p:Code></p:Codes><p:Codes><p:Code>2</p:Code></p:Codes></r>",
    # conversion errors, one per record, in each kind of place
    '<r id="x"/>',
    "<r flag='maybe'/>",
    "<r><p:Weight>heavy</p:Weight></r>",
    "<r><p:Prices><p:Price>cheap</p:Price></p:Prices></r>",
    "<r><p:Codes><p:Code>1.5</p:Code></p:Codes></r>",
    "<r><p:Day>2026-03-01</p:Day></r>",
    "<r><p:Stamp>yesterday</p:Stamp></r>",
    "<r><p:Ok>perhaps</p:Ok></r>",
    "<r><p:Size unit='cm'>big</p:Size></r>",
    # a keyed element without its key
    "<r><p:Name>no language</p:Name></r>",
    '<r><p:Name lang=" ">blank language</p:Name></r>',
]


def outcome(extract: Callable[[Any], dict[str, Any]], elem: Any) -> Any:
    try:
        record = extract(elem)
    except ConversionFailure as exc:
        return ("error", str(exc))
    return ("record", list(record.items()))


def compilers(
    fields: dict[str, Any], namespaces: dict[str, str]
) -> tuple[Callable[[Any], dict[str, Any]], Callable[[Any], dict[str, Any]]]:
    specs = parse_fields(fields, "streams[0].fields")
    generated = compile_record(specs, namespaces)
    assert generated is not None, "every field here has a supported shape"
    return generated, FieldCompiler(namespaces).record(specs)


@pytest.mark.parametrize("xml", RECORDS)
def test_generated_extractor_matches_general_compiler(xml: str) -> None:
    generated, general = compilers(FIELDS, NS)
    elem = etree.fromstring(xml.replace("<r", '<r xmlns:p="urn:test"', 1))
    expected = outcome(general, elem)
    assert outcome(generated, elem) == expected


def test_edge_cases_really_exercise_errors_and_values() -> None:
    """Guard against a vacuous comparison: the cases above hold values and errors."""
    _, general = compilers(FIELDS, NS)
    outcomes = [outcome(general, etree.fromstring(xml.replace("<r", '<r xmlns:p="urn:test"', 1)))
                for xml in RECORDS]  # fmt: skip
    assert sum(kind == "error" for kind, _ in outcomes) == 11
    first = dict(outcomes[0][1])
    assert first["prices"] == [
        {"amount": 1.5, "currency": "EUR"},
        {"amount": 2.0, "currency": None},
    ]
    assert first["size"] == {"cm": 1.5}
    assert dict(outcomes[1][1])["tags"] == []
    assert dict(outcomes[3][1])["sku"] == "second"


def test_acceptance_export_through_both() -> None:
    config = json.loads((ACCEPTANCE / "tap-config.json").read_text())
    stream = config["streams"][0]
    generated, general = compilers(stream["fields"], stream["namespaces"])
    tag = "{urn:acme:erp:products:1}Product"
    elements = list(etree.parse(str(ACCEPTANCE / "erp-products.xml")).iter(tag))
    assert len(elements) >= 3
    for elem in elements:
        assert outcome(generated, elem) == outcome(general, elem)


@pytest.mark.parametrize(
    "fields",
    [
        {"x": "p:A/p:B"},  # a deeper scalar path
        {"x": "*"},  # a wildcard
        {"x": {"path": "p:A", "key": "p:Lang"}},  # a key read from a child element
        {"x": {"path": "p:A/p:B", "key": "@lang"}},  # a keyed path of two steps
        {"x": {"path": "p:A", "type": "array", "fields": {"y": "p:B"}}},  # item field path
        {"x": {"path": "p:A/p:B/p:C", "type": "array"}},  # an array of three steps
    ],
)
def test_unusual_shapes_use_the_general_compiler(fields: dict[str, Any]) -> None:
    assert compile_record(parse_fields(fields, "streams[0].fields"), NS) is None
