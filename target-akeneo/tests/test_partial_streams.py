"""Streams that update part of a product, through the target CLI and a sandbox process: a
price's currency and a metric's unit read from record fields, and `create: false`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from akeneo_sandbox.testing import SandboxProcess
from target_akeneo.testing import Run, run_target, sandbox_config

NESTED = {"type": ["object", "null"], "additionalProperties": True}
SCHEMA = {
    "type": "object",
    "properties": {
        "sku": {"type": "string"},
        "name": {"type": ["string", "null"]},
        "price": NESTED,
        "weight": NESTED,
        "stock": {"type": ["integer", "null"]},
    },
}
MASTER = {
    "identifier": "sku",
    "family": {"value": "shoes"},
    "values": {"name": {"field": "name", "locale": "en_US"}},
}
PRICES = {
    "identifier": "sku",
    "create": False,
    "values": {
        "price": {"field": "price.amount", "currency": {"field": "price.currency"}},
        "stock": "stock",
    },
}
MEASURED = {
    "identifier": "sku",
    "values": {
        "price": {"field": "price.amount", "currency": {"field": "price.currency"}},
        "weight": {"field": "weight.value", "unit": {"field": "weight.unit"}},
    },
}


def messages(stream: str, records: list[dict[str, Any]]) -> str:
    lines: list[dict[str, Any]] = [
        {"type": "SCHEMA", "stream": stream, "schema": SCHEMA, "key_properties": ["sku"]}
    ]
    lines += [{"type": "RECORD", "stream": stream, "record": record} for record in records]
    lines.append({"type": "STATE", "value": {"bookmarks": {stream: {"done": True}}}})
    return "".join(json.dumps(line) + "\n" for line in lines)


def run(
    pim: SandboxProcess, tmp_path: Path, mapping: dict[str, Any], text: str, **more: Any
) -> Run:
    config = sandbox_config(pim, tmp_path, mapping=mapping, **more)
    config.pop("mapping_file")
    return run_target(config, text, tmp_path)


def searches(pim: SandboxProcess, route: str) -> int:
    return sum(
        row["count"]
        for row in pim.stats()["requests"]
        if row["method"] == "GET" and row["route"] == route
    )


def value(pim: SandboxProcess, sku: str, attribute: str) -> Any:
    product = pim.get_product(sku)
    assert product is not None, sku
    entries = product["values"].get(attribute)
    return None if entries is None else entries[0]["data"]


def test_currency_and_unit_from_fields_checked_per_product(
    fresh_sandbox: SandboxProcess, tmp_path: Path
) -> None:
    records = [
        {"sku": "U-1", "price": {"amount": 12.5, "currency": "EUR"},
         "weight": {"value": 0.8, "unit": "KILOGRAM"}},
        {"sku": "U-2", "price": {"amount": 9, "currency": "USD"},
         "weight": {"value": 120, "unit": "GRAM"}},
        {"sku": "U-3", "price": {"amount": 7, "currency": "GBP"},
         "weight": {"value": 1, "unit": "GRAM"}},
        {"sku": "U-4", "price": {"amount": 7, "currency": "EUR"},
         "weight": {"value": 1, "unit": "LITER"}},
    ]  # fmt: skip
    done = run(fresh_sandbox, tmp_path, {"products": MEASURED}, messages("products", records))
    assert done.returncode == 0, done.stderr
    assert value(fresh_sandbox, "U-1", "price") == [{"amount": "12.50", "currency": "EUR"}]
    assert value(fresh_sandbox, "U-1", "weight") == {"amount": "0.8", "unit": "KILOGRAM"}
    assert value(fresh_sandbox, "U-2", "price") == [{"amount": "9.00", "currency": "USD"}]
    assert value(fresh_sandbox, "U-2", "weight") == {"amount": "120", "unit": "GRAM"}
    assert fresh_sandbox.get_product("U-3") is None
    assert fresh_sandbox.get_product("U-4") is None
    letters = {letter["identifier"]: letter for letter in done.dead_letters()}
    assert sorted(letters) == ["U-3", "U-4"]
    assert {letter["reason"] for letter in letters.values()} == {"mapping_error"}
    assert (
        "currency 'GBP' (field 'price.currency') is not an activated currency"
        in (letters["U-3"]["message"])
    )
    assert "values.price" in letters["U-3"]["message"]
    assert (
        "unit 'LITER' (field 'weight.unit') is not in the measurement family 'Weight'"
        in (letters["U-4"]["message"])
    )
    assert done.report["created"] == 2
    assert done.report["rejected"] == 2


def test_currency_field_mistakes_are_one_line_each(
    fresh_sandbox: SandboxProcess, tmp_path: Path
) -> None:
    price = {"field": "price.amount", "currency": {"field": "price.currency", "scope": "x"}}
    mapping = {"products": {"identifier": "sku", "create": "no", "values": {"price": price}}}
    done = run(fresh_sandbox, tmp_path, mapping, messages("products", [{"sku": "E-1"}]))
    assert done.returncode != 0
    assert "products.create: expected true or false, got 'no'" in done.stderr
    assert "products.values.price.currency: unknown key(s) scope" in done.stderr
    assert "Traceback" not in done.stderr
    assert fresh_sandbox.all_products() == []


def test_currency_field_not_in_the_schema_stops_the_stream(
    fresh_sandbox: SandboxProcess, tmp_path: Path
) -> None:
    price = {"type": "object", "properties": {"amount": {"type": "number"},
             "currency": {"type": "string"}}, "additionalProperties": False}  # fmt: skip
    schema = {"type": "object", "properties": {"sku": {"type": "string"}, "price": price}}
    lines = [
        {"type": "SCHEMA", "stream": "products", "schema": schema, "key_properties": ["sku"]},
        {"type": "RECORD", "stream": "products",
         "record": {"sku": "S-1", "price": {"amount": 1, "currency": "EUR"}}},
    ]  # fmt: skip
    spec = {"field": "price.amount", "currency": {"field": "price.curency"}}
    mapping = {"products": {"identifier": "sku", "values": {"price": spec}}}
    done = run(fresh_sandbox, tmp_path, mapping, "".join(json.dumps(x) + "\n" for x in lines))
    assert done.returncode != 0
    assert (
        "products.values.price.currency: field 'price.curency': 'curency' is not a key of "
        "'price' in the stream's schema (did you mean 'price.currency'?)"
    ) in done.stderr
    assert fresh_sandbox.all_products() == []


@pytest.mark.parametrize(
    ("endpoint", "route"), [("identifier", "products"), ("uuid", "products-uuid")]
)
def test_create_false_skips_products_the_pim_lacks_one_search_per_100(
    fresh_sandbox: SandboxProcess, tmp_path: Path, endpoint: str, route: str
) -> None:
    masters = [{"sku": f"P-{n:03d}", "name": f"Shoe {n}"} for n in (1, 2)]
    first = run(
        fresh_sandbox, tmp_path, {"master": MASTER}, messages("master", masters),
        product_endpoint=endpoint,
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    before = searches(fresh_sandbox, f"/api/rest/v1/{route}")
    prices = [
        {"sku": f"P-{n:03d}", "price": {"amount": n, "currency": "EUR"}, "stock": n}
        for n in range(1, 151)
    ]
    done = run(
        fresh_sandbox, tmp_path, {"prices": PRICES}, messages("prices", prices),
        product_endpoint=endpoint,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.report["skipped_missing"] == 148
    assert done.report["updated"] == 2
    assert done.report["created"] == 0
    assert done.report["streams"]["prices"]["skipped_missing"] == 148
    assert "skipped_missing=148" in done.stderr
    # 150 products in one batch of the sink: two searches of at most 100, nothing more.
    assert searches(fresh_sandbox, f"/api/rest/v1/{route}") - before == 2
    skus = sorted(p["values"]["sku"][0]["data"] for p in fresh_sandbox.all_products())
    assert skus == ["P-001", "P-002"]
    # Merged on PATCH: the master stream's name stays beside the prices stream's values.
    assert value(fresh_sandbox, "P-002", "name") == "Shoe 2"
    assert value(fresh_sandbox, "P-002", "price") == [{"amount": "2.00", "currency": "EUR"}]
    assert value(fresh_sandbox, "P-002", "stock") == 2


def test_create_false_finds_products_another_stream_still_buffers(
    fresh_sandbox: SandboxProcess, tmp_path: Path
) -> None:
    """One run, master data then prices: the master stream's last records are still in its
    sink when the prices sink fills up; they are handed over first, so nothing is skipped."""
    masters = [{"sku": f"B-{n:03d}", "name": f"Boot {n}"} for n in range(1, 251)]
    prices = [
        {"sku": f"B-{n:03d}", "price": {"amount": n, "currency": "EUR"}} for n in range(51, 251)
    ]
    text = messages("master", masters) + messages("prices", prices)
    done = run(fresh_sandbox, tmp_path, {"master": MASTER, "prices": PRICES}, text)
    assert done.returncode == 0, done.stderr
    assert done.report["skipped_missing"] == 0
    assert done.report["streams"]["prices"]["updated"] == 200
    assert value(fresh_sandbox, "B-250", "name") == "Boot 250"
    assert value(fresh_sandbox, "B-250", "price") == [{"amount": "250.00", "currency": "EUR"}]
    assert value(fresh_sandbox, "B-050", "price") is None
