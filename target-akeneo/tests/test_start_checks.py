"""Issue 12, checks before sending, through the `target-akeneo` CLI against a sandbox process:
the mapping against the stream's SCHEMA, dotted paths, YAML number keys, category codes."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import requests

from target_akeneo.testing import (
    ACCEPTANCE_RECORDS,
    SCHEMA,
    acceptance_mapping,
    run_target,
    sandbox_config,
)

PRODUCT_ROUTES = ("/api/rest/v1/products", "/api/rest/v1/products-uuid")


def product_calls(stats: dict[str, Any]) -> int:
    return sum(row["count"] for row in stats["requests"] if row["route"].startswith(PRODUCT_ROUTES))


def category_searches(stats: dict[str, Any]) -> int:
    return sum(
        row["count"]
        for row in stats["requests"]
        if row["method"] == "GET" and row["route"] == "/api/rest/v1/categories"
    )


def lines(schema: dict[str, Any], records: list[dict[str, Any]]) -> str:
    messages: list[dict[str, Any]] = [
        {"type": "SCHEMA", "stream": "products", "schema": schema, "key_properties": ["sku"]}
    ]
    messages += [{"type": "RECORD", "stream": "products", "record": r} for r in records]
    messages.append({"type": "STATE", "value": {"bookmarks": {"products": {"done": True}}}})
    return "".join(json.dumps(m) + "\n" for m in messages)


def errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "| ERROR" in line]


def mapping_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "mapping.yml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_misspelled_field_stops_the_run_before_any_product(
    fresh_sandbox: Any, tmp_path: Path
) -> None:
    """Why: `field: titel` logged "mapping valid" and sent every product without a name."""
    schema = copy.deepcopy(SCHEMA)
    schema["properties"]["title"] = schema["properties"].pop("name")
    records = [{**r, "title": r["name"]} for r in ACCEPTANCE_RECORDS]
    mapping = acceptance_mapping()
    mapping["products"]["values"]["name"]["field"] = "titel"
    config = sandbox_config(fresh_sandbox, tmp_path, mapping=mapping)
    del config["mapping_file"]

    run = run_target(config, lines(schema, records), tmp_path)

    assert run.returncode == 1
    assert errors(run.stderr) == [
        next(line for line in run.stderr.splitlines() if "did you mean 'title'?" in line)
    ], run.stderr
    assert "products.values.name: field 'titel' is not in the stream's schema" in run.stderr
    assert "Traceback" not in run.stderr
    assert run.stdout.strip() == ""  # no STATE
    assert product_calls(fresh_sandbox.stats()) == 0
    assert fresh_sandbox.all_products() == []


def test_dotted_paths_reach_nested_fields_and_a_wrong_one_is_named(
    fresh_sandbox: Any, tmp_path: Path
) -> None:
    """Why: a dotted path (`description.EN.text`) was silently empty."""
    schema = copy.deepcopy(SCHEMA)
    schema["properties"]["description"] = {
        "type": ["object", "null"],
        "properties": {"en": {"type": "object", "properties": {"text": {"type": "string"}}}},
    }
    record = {**ACCEPTANCE_RECORDS[1], "description": {"en": {"text": "Soft merino."}}}
    mapping = acceptance_mapping()
    values = mapping["products"]["values"]
    values["description"] = {
        "field": "description.en.text",
        "locale": "en_US",
        "scope": "ecommerce",
    }
    config = sandbox_config(fresh_sandbox, tmp_path, mapping=mapping)
    del config["mapping_file"]

    run = run_target(config, lines(schema, [record]), tmp_path)

    assert run.returncode == 0, run.stderr
    product = fresh_sandbox.get_product("SKU-100235")
    assert product["values"]["description"] == [
        {"locale": "en_US", "scope": "ecommerce", "data": "Soft merino."}
    ]

    values["description"]["field"] = "description.EN.text"
    fresh_sandbox.reset()
    wrong = run_target(config, lines(schema, [record]), tmp_path)

    assert wrong.returncode == 1
    assert len(errors(wrong.stderr)) == 1, wrong.stderr
    assert "'EN' is not a key of 'description'" in wrong.stderr
    assert "did you mean 'description.en'?" in wrong.stderr
    assert product_calls(fresh_sandbox.stats()) == 0


GPC_MAPPING = """\
products:
  identifier: sku
  family: {value: shoes}
  categories: {field: gpc, map: {276: %s}}
  values:
    ean: ean
"""


def gpc_records() -> list[dict[str, Any]]:
    return [
        {"sku": "GPC-1", "ean": "4006381333931", "gpc": "276"},
        {"sku": "GPC-2", "ean": "4006381333948", "gpc": "276"},
    ]


def gpc_schema() -> dict[str, Any]:
    schema = copy.deepcopy(SCHEMA)
    schema["properties"]["gpc"] = {"type": ["string", "null"]}
    return schema


def create_category(sandbox: Any, code: str) -> None:
    response = requests.post(
        f"{sandbox.base_url}/api/rest/v1/categories",
        json={"code": code, "parent": "master", "labels": {"en_US": code}},
        headers={"Authorization": f"Bearer {sandbox.token()}"},
        timeout=10,
    )
    assert response.status_code == 201, response.text


def test_yaml_number_key_matches_the_text_value(fresh_sandbox: Any, tmp_path: Path) -> None:
    """Why: `map: {276: gpc_276}` never matched "276" and 1,254 products were rejected."""
    create_category(fresh_sandbox, "gpc_276")
    config = sandbox_config(
        fresh_sandbox, tmp_path, mapping_file=mapping_file(tmp_path, GPC_MAPPING % "gpc_276")
    )

    run = run_target(config, lines(gpc_schema(), gpc_records()), tmp_path)

    assert run.returncode == 0, run.stderr
    assert run.report["created"] == 2
    assert run.report["rejected"] == 0
    for sku in ("GPC-1", "GPC-2"):
        assert fresh_sandbox.get_product(sku)["categories"] == ["gpc_276"]


def test_unknown_category_named_by_the_mapping_stops_at_start(
    fresh_sandbox: Any, tmp_path: Path
) -> None:
    config = sandbox_config(
        fresh_sandbox, tmp_path, mapping_file=mapping_file(tmp_path, GPC_MAPPING % "gpc_999")
    )

    run = run_target(config, lines(gpc_schema(), gpc_records()), tmp_path)

    assert run.returncode == 1
    assert [line.rsplit(" | ", 1)[1] for line in errors(run.stderr)] == [
        f"{config['mapping_file']}: products.categories: category 'gpc_999' does not exist"
        " in the PIM"
    ]
    assert product_calls(fresh_sandbox.stats()) == 0


def test_unknown_category_from_a_record_field_stops_before_any_product(
    fresh_sandbox: Any, tmp_path: Path
) -> None:
    """Why: category codes were not checked before sending; each product was rejected."""
    records = copy.deepcopy(ACCEPTANCE_RECORDS)
    records[1]["categories"] = ["summer_2026", "winter_2027"]
    records[3]["categories"] = ["winter_2027", "shoes_runing"]
    config = sandbox_config(fresh_sandbox, tmp_path)

    run = run_target(config, lines(SCHEMA, records), tmp_path)

    assert run.returncode == 1
    assert len(errors(run.stderr)) == 2, run.stderr
    assert (
        "products.categories: category 'shoes_runing' (from field 'categories', "
        "e.g. product 'SKU-100237') does not exist in the PIM" in run.stderr
    )
    assert "category 'winter_2027' (from field 'categories', e.g. product 'SKU-100235')" in (
        run.stderr
    )
    assert category_searches(fresh_sandbox.stats()) == 1
    assert product_calls(fresh_sandbox.stats()) == 0
    assert run.stdout.strip() == ""


def test_known_categories_cost_one_search_and_are_sent(fresh_sandbox: Any, tmp_path: Path) -> None:
    run = run_target(
        sandbox_config(fresh_sandbox, tmp_path), lines(SCHEMA, ACCEPTANCE_RECORDS), tmp_path
    )
    assert run.returncode == 0, run.stderr
    assert category_searches(fresh_sandbox.stats()) == 1
    assert fresh_sandbox.get_product("SKU-100234")["categories"] == ["shoes_running", "summer_2026"]


def test_category_and_structure_problems_are_reported_together(
    fresh_sandbox: Any, tmp_path: Path
) -> None:
    text = (GPC_MAPPING % "gpc_999").replace("{value: shoes}", "{value: shoez}")
    config = sandbox_config(fresh_sandbox, tmp_path, mapping_file=mapping_file(tmp_path, text))

    run = run_target(config, lines(gpc_schema(), gpc_records()), tmp_path)

    assert run.returncode == 1
    found = [line.rsplit(" | ", 1)[1].split(": ", 1)[1] for line in errors(run.stderr)]
    assert found == [
        "products.family: family 'shoez' does not exist in the PIM",
        "products.categories: category 'gpc_999' does not exist in the PIM",
    ]
    assert product_calls(fresh_sandbox.stats()) == 0
