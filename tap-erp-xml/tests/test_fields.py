"""The field compiler: one generated function per stream, each field shape's records and
errors, and the generated source a developer can read."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from tap_erp_xml.errors import ConfigError, ConversionFailure
from tap_erp_xml.fields import compile_fields
from tap_erp_xml.settings import parse_fields, parse_settings
from tap_erp_xml.testing import product_stream, run_cli, sync
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
        ({"x": {"path": "p:A", "key": "p:Lang", "value": "p:B", "join": "|"}}, {"de": "b1c1|b2"}),
        ({"x": {"path": "p:A", "key": "p:Lang", "value": "p:B/@lang"}}, {"de": "en"}),
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


PRICE = r"^(?P<amount>[0-9.,]+)\s*(?P<currency>[A-Z]{3})$"
FORMS: dict[str, Any] = {
    # keyed by a child element, the value another child (SAP's E1MAKTM)
    "descriptions": {"path": "p:T", "key": "p:Lang", "value": "p:Text"},
    # keyed by an attribute, the value an attribute, or the element itself
    "labels": {"path": "p:L", "key": "@lang", "value": "@short"},
    "titles": {"path": "p:L", "key": "@lang", "value": "."},
    # keyed by a child, the value nested fields
    "units": {
        "path": "p:U",
        "key": "p:Unit",
        "fields": {"num": {"path": "p:N", "type": "integer"}},
    },
    # a pattern with named groups: typed parts of one text
    "price": {
        "path": "p:Price",
        "pattern": PRICE,
        "fields": {
            "amount": {"type": "number", "decimal_separator": ",", "thousands_separator": "."},
            "currency": {},
        },
    },
    # a pattern on an attribute, the first group only
    "weight": {"path": "@w", "pattern": r"([0-9.]+)\s*kg", "type": "number"},
    # per-match pattern objects in an array
    "sizes": {
        "path": "p:Size",
        "type": "array",
        "pattern": r"(?P<v>\d+)(?P<u>[a-z]+)",
        "fields": {"v": {"type": "integer"}, "u": {}},
    },
    # null markers, per field (replacing the stream's) and per stream
    "day": {"path": "p:Day", "type": "date", "format": "%Y%m%d", "null_values": ["00000000"]},
    "ean": "p:Ean",
    # repeated lines joined; a null marker line is left out
    "text": {"path": "p:Long/p:Line", "join": " "},
}


def test_new_forms_on_one_record() -> None:
    specs = parse_fields(FORMS, NS, "streams[0].fields", frozenset({"N/A", "-"}))
    xml = """<r xmlns:p="urn:test" w="1.25 kg">
      <p:T><p:Lang>EN</p:Lang><p:Text> Bike </p:Text><p:Other>x</p:Other></p:T>
      <p:T><p:Other>y</p:Other><p:Lang>DE</p:Lang><p:Text>Rad</p:Text></p:T>
      <p:T><p:Lang>FR</p:Lang><p:Text>N/A</p:Text></p:T>
      <p:L lang="en" short="B">Bicycle</p:L><p:L lang="de">Fahrrad</p:L>
      <p:U><p:Unit>PCE</p:Unit><p:N>1</p:N></p:U><p:U><p:Unit>BOX</p:Unit><p:N>12</p:N></p:U>
      <p:Price> 1.299,50 CZK </p:Price><p:Size>10cm</p:Size><p:Size>N/A</p:Size><p:Size>2m</p:Size>
      <p:Day>00000000</p:Day><p:Ean>-</p:Ean>
      <p:Long><p:Line>first</p:Line><p:Line>-</p:Line><p:Line/><p:Line>second</p:Line></p:Long>
    </r>"""
    record = compile_fields(specs).extract(etree.fromstring(xml))
    assert record == {
        "descriptions": {"EN": "Bike", "DE": "Rad", "FR": None},
        "labels": {"en": "B", "de": None},
        "titles": {"en": "Bicycle", "de": "Fahrrad"},
        "units": {"PCE": {"num": 1}, "BOX": {"num": 12}},
        "price": {"amount": 1299.5, "currency": "CZK"},
        "weight": 1.25,
        "sizes": [{"v": 10, "u": "cm"}, {"v": 2, "u": "m"}],
        "day": None,
        "ean": None,
        "text": "first second",
    }
    empty = compile_fields(specs).extract(etree.fromstring("<r/>"))
    assert empty == {name: [] if name == "sizes" else None for name in FORMS}


def test_a_field_s_null_values_replace_the_stream_s() -> None:
    fields = {"a": "A", "b": {"path": "B", "null_values": ["0"]}}
    specs = parse_fields(fields, {}, "streams[0].fields", frozenset({"N/A"}))
    record = compile_fields(specs).extract(etree.fromstring("<r><A>N/A</A><B>N/A</B></r>"))
    assert record == {"a": None, "b": "N/A"}


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        ("<r><p:Price>cheap</p:Price></r>",
         f'field "price": "cheap" does not match the pattern {PRICE!r}'),
        ("<r><p:Price>1,2,3 EUR</p:Price></r>", 'field "price.amount": cannot convert "1,2,3"'),
        ('<r w="heavy"/>', 'field "weight": "heavy" does not match the pattern'),
        ("<r><p:Size>10</p:Size></r>", 'field "sizes": "10" does not match'),
        ("<r><p:Day>2026-01-01</p:Day></r>", 'field "day": cannot convert "2026-01-01" to date'),
        ("<r><p:T><p:Text>no key</p:Text></p:T></r>",
         'field "descriptions": cannot convert "p:Lang"'),
    ],
)  # fmt: skip
def test_new_forms_invalid_values(xml: str, message: str) -> None:
    specs = parse_fields(FORMS, NS, "streams[0].fields")
    with pytest.raises(ConversionFailure) as caught:
        compile_fields(specs).extract(
            etree.fromstring(xml.replace("<r", '<r xmlns:p="urn:test"', 1))
        )
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ({"path": "P", "pattern": PRICE, "fields": {"amount": {}, "cur": {}}},
         "streams[0].fields.x.fields.cur: no group (?P<cur>...) in the pattern"),
        ({"path": "P", "pattern": "^(?P<a>[0-9]+$"},
         "streams[0].fields.x.pattern: does not compile: missing ), unterminated subpattern"),
        ({"path": "P", "value": "V"}, "streams[0].fields.x.value: needs key"),
        ({"path": "P", "key": "K"}, "streams[0].fields.x.key: a child key needs value"),
        ({"path": "P", "key": "@k", "value": "V", "fields": {"a": "A"}},
         "streams[0].fields.x.value: give value or fields, not both"),
        ({"path": "P", "pattern": "(?P<a>.)", "fields": {"a": {"path": "A"}}},
         "streams[0].fields.x.fields.a.path: a pattern group's field takes its text from"),
        ({"path": "P", "pattern": "(?P<a>.)", "fields": {"a": "A"}},
         "streams[0].fields.x.fields.a: a pattern group's field is an object"),
        ({"path": "P", "pattern": "(?P<a>.)", "fields": {"a": {"type": "array"}}},
         "streams[0].fields.x.fields.a: a pattern group's field is a scalar"),
        ({"path": "P", "join": ",", "type": "array"}, "streams[0].fields.x.join: joins the texts"),
        ({"path": "@a", "join": ","}, "streams[0].fields.x.join: needs a path of repeated"),
        ({"path": "P", "key": "@k", "join": ","}, "fields.x.join: needs a value of repeated"),
        ({"type": "number"}, "streams[0].fields.x: 'path' is a required property"),
        ({"path": "P", "null_values": "N/A"}, "streams[0].fields.x.null_values: 'N/A' is not"),
    ],
)  # fmt: skip
def test_mistakes_in_new_forms_are_one_line_config_errors(field: Any, message: str) -> None:
    config = {
        "files": ["x.xml"],
        "streams": [{"name": "s", "record_path": "R", "fields": {"x": field}}],
    }
    with pytest.raises(ConfigError) as caught:
        parse_settings(config)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_the_stream_s_null_values_and_a_field_matching_nothing_through_the_cli(
    tmp_path: Path, write_config: Any
) -> None:
    (tmp_path / "a.xml").write_text(
        "<Export><Product><SKU>1</SKU><Day>00000000</Day></Product>"
        "<Product><SKU>2</SKU><Day>20260301</Day></Product></Export>"
    )
    (tmp_path / "b.xml").write_text("<Export><Product><SKU>3</SKU><Nam>x</Nam></Product></Export>")
    stream = product_stream(
        null_values=["00000000"],
        fields={
            "sku": "SKU",
            "name": "Name",
            "day": {"path": "Day", "type": "date", "format": "%Y%m%d"},
        },
    )
    config = {"files": ["a.xml", "b.xml"], "base_dir": str(tmp_path), "streams": [stream]}
    run = run_cli(["--config", str(write_config(config))], tmp_path)
    assert run.returncode == 0, run.stderr
    records = [{k: r[k] for k in ("sku", "name", "day")} for r in run.messages.records]
    assert records == [
        {"sku": "1", "name": None, "day": None},
        {"sku": "2", "name": None, "day": "2026-03-01"},
        {"sku": "3", "name": None, "day": None},
    ]
    warnings = [line for line in run.stderr.splitlines() if "matched nothing" in line]
    assert len(warnings) == 3  # name in a.xml, name and day in b.xml: once per file each
    assert any('a.xml: field "name" (path "Name", streams[0].fields.name) matched nothing' in w
               for w in warnings)  # fmt: skip
    assert sum('b.xml: field "day"' in w for w in warnings) == 1
    assert not [w for w in warnings if 'field "sku"' in w]


def test_any_namespace_steps_share_the_children_loop_with_plain_tags() -> None:
    fields = {
        "exact": "p:A/@k",
        "any": "*:A/@k",
        "deeper": {"path": "*:A/*:B", "type": "array"},
        "plain": {"path": "*:Plain", "type": "integer"},
    }
    specs = parse_fields(fields, NS, "streams[0].fields")
    compiled = compile_fields(specs)
    xml = '<r xmlns:p="urn:test"><p:A k="one"><p:B>b1</p:B><B>b2</B></p:A><Plain>3</Plain></r>'
    assert compiled.extract(etree.fromstring(xml)) == {
        "exact": "one",
        "any": "one",
        "deeper": ["b1", "b2"],
        "plain": 3,
    }
    assert "tag_matches" not in compiled.source  # matched inline, no call per child


@pytest.mark.parametrize("policy", ["skip", "fail"])
def test_a_value_not_matching_its_pattern_follows_on_invalid_value(
    tmp_path: Path, write_config: Any, policy: str
) -> None:
    (tmp_path / "a.xml").write_text(
        "<Export><Product><SKU>1</SKU><Price>5.00 EUR</Price></Product>"
        "<Product><SKU>2</SKU><Price>free</Price></Product></Export>"
    )
    price = {
        "path": "Price",
        "pattern": PRICE,
        "fields": {"amount": {"type": "number"}, "currency": {}},
    }
    config = {
        "files": ["a.xml"],
        "base_dir": str(tmp_path),
        "on_invalid_value": policy,
        "streams": [product_stream(fields={"sku": "SKU", "price": price})],
    }
    run = run_cli(["--config", str(write_config(config))], tmp_path)
    message = f'(record 2, sku=2): field "price": "free" does not match the pattern {PRICE!r}'
    assert message in run.stderr
    assert "a.xml:1:" in run.stderr
    # the record before the bad value is emitted either way (fail stops the run after it)
    assert [(r["sku"], r["price"]) for r in run.messages.records] == [
        ("1", {"amount": 5.0, "currency": "EUR"})
    ]
    if policy == "skip":
        assert run.returncode == 0
        assert "1 skipped (invalid values)" in run.stderr
    else:
        assert run.returncode == 1
