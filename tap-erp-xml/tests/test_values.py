"""Value conversion by declared type, and what happens to values that do not convert."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from tap_erp_xml.errors import ConversionFailure, ValueConversionError
from tap_erp_xml.fields import compile_fields
from tap_erp_xml.settings import parse_field
from tap_erp_xml.testing import sync


def convert(spec: dict[str, Any], text: str) -> Any:
    """The value of field ``f`` (``spec``, path ``X``) on ``<r><X>text</X></r>``."""
    specs = (parse_field("f", spec | {"path": "X"}, {}, "streams[0].fields.f"),)
    record = compile_fields(specs).extract(etree.fromstring(f"<r><X>{text}</X></r>"))
    return record["f"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Y", True), ("n", False), ("J", True), ("N", False), ("1", True), ("0", False),
        ("true", True), ("FALSE", False), ("yes", True), ("no", False), ("ja", True),
        ("Nein", False), ("oui", True), ("non", False),
    ],
)  # fmt: skip
def test_boolean_spellings(text: str, expected: bool) -> None:
    assert convert({"type": "boolean"}, text) is expected


def test_boolean_custom_values_replace_the_defaults() -> None:
    spec = {"type": "boolean", "true_values": ["active"], "false_values": ["inactive"]}
    assert convert(spec, "ACTIVE") is True
    assert convert(spec, "inactive") is False
    with pytest.raises(ConversionFailure, match='cannot convert "Y" to boolean'):
        convert(spec, "Y")


def test_numbers_with_separators() -> None:
    assert convert({"type": "number"}, "129.90") == 129.9
    assert convert({"type": "number", "decimal_separator": ","}, "0,82") == 0.82
    spec = {"type": "number", "decimal_separator": ",", "thousands_separator": "."}
    assert convert(spec, "1.234.567,5") == 1234567.5
    spec = {"type": "number", "thousands_separator": ","}
    assert convert(spec, "1,234.5") == 1234.5
    assert convert({"type": "integer"}, "-42") == -42


def test_dates_and_date_times() -> None:
    assert convert({"type": "date", "format": "%Y%m%d"}, "20260301") == "2026-03-01"
    assert convert({"type": "date", "format": "%d.%m.%Y"}, "01.03.2026") == "2026-03-01"
    assert convert({"type": "date"}, "2026-03-01") == "2026-03-01"
    assert convert({"type": "date-time"}, "2026-11-21T17:04:00Z") == "2026-11-21T17:04:00+00:00"
    assert convert({"type": "date-time"}, "2026-11-21T18:04:00+01:00") == (
        "2026-11-21T17:04:00+00:00"
    )
    assert convert({"type": "date-time"}, "2026-11-21 17:04") == "2026-11-21T17:04:00+00:00"
    spec = {"type": "date-time", "format": "%d.%m.%Y %H:%M"}
    assert convert(spec, "21.11.2026 17:04") == "2026-11-21T17:04:00+00:00"


def _weights(tmp_path: Path, on_invalid: str | None) -> dict[str, Any]:
    (tmp_path / "w.xml").write_text(
        "<Export>\n"
        "<Product><SKU>A</SKU><Weight>1,5</Weight></Product>\n"
        "<Product><SKU>B</SKU><Weight>abc</Weight></Product>\n"
        "<Product><SKU>C</SKU><Weight>2</Weight></Product>\n"
        "</Export>"
    )
    config: dict[str, Any] = {
        "files": [str(tmp_path / "w.xml")],
        "streams": [
            {
                "name": "products",
                "record_path": "/Export/Product",
                "key_properties": ["sku"],
                "fields": {
                    "sku": "SKU",
                    "weight": {"path": "Weight", "type": "number", "decimal_separator": ","},
                },
            }
        ],
    }
    if on_invalid:
        config["on_invalid_value"] = on_invalid
    return config


def test_invalid_value_fails_the_run_by_default_naming_file_line_field(tmp_path: Path) -> None:
    with pytest.raises(ValueConversionError) as caught:
        sync(_weights(tmp_path, None))
    assert str(caught.value) == (
        f"{tmp_path / 'w.xml'}:3:1 (record 2, sku=B): "
        'field "weight": cannot convert "abc" to number'
    )


def test_invalid_value_skip_drops_the_record_and_counts_it(tmp_path: Path) -> None:
    result = sync(_weights(tmp_path, "skip"))
    assert [(r["sku"], r["weight"]) for r in result.records] == [("A", 1.5), ("C", 2.0)]
    counts = result.counts["products"]
    assert (counts.emitted, counts.skipped_invalid) == (2, 1)


def test_nested_field_errors_name_the_nested_field(tmp_path: Path) -> None:
    (tmp_path / "p.xml").write_text(
        '<Export><Product><SKU>A</SKU><Prices><Price currency="EUR">x</Price></Prices>'
        "</Product></Export>"
    )
    config = {
        "files": [str(tmp_path / "p.xml")],
        "streams": [
            {
                "name": "products",
                "record_path": "/Export/Product",
                "fields": {
                    "prices": {
                        "path": "Prices/Price",
                        "type": "array",
                        "fields": {"amount": {"path": ".", "type": "number"}},
                    }
                },
            }
        ],
    }
    with pytest.raises(
        ValueConversionError, match=r'p\.xml:1:9 \(record 1\): field "prices\.amount": .*"x"'
    ):
        sync(config)
