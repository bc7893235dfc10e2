"""Associations and quantified associations through the target CLI and a sandbox process
(the demo catalog: X_SELL and UPSELL, quantified BUNDLE)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from akeneo_sandbox.testing import SandboxProcess
from target_akeneo.testing import Run, run_target, sandbox_config

SCHEMA = {
    "type": "object",
    "properties": {
        "sku": {"type": "string"},
        "name": {"type": "object", "additionalProperties": {"type": "string"}},
        "related_skus": {"type": ["array", "null"], "items": {"type": "string"}},
        "bundle_items": {
            "type": ["array", "null"],
            "items": {
                "type": "object",
                "properties": {"sku": {"type": "string"}, "qty": {"type": "integer"}},
            },
        },
    },
}
MAPPING: dict[str, Any] = {
    "products": {
        "identifier": "sku",
        "values": {"name": {"field": "name", "locales": {"en": "en_US"}}},
        "associations": {"X_SELL": {"products": {"field": "related_skus"}}},
        "quantified_associations": {
            "BUNDLE": {
                "products": {"field": "bundle_items", "identifier": "sku", "quantity": "qty"}
            }
        },
    }
}


def record(sku: str, related: list[str] | None = None, bundle: Any = None) -> dict[str, Any]:
    return {"sku": sku, "name": {"en": f"Name {sku}"}, "related_skus": related,
            "bundle_items": bundle}  # fmt: skip


STATE = {"type": "STATE", "value": {"bookmarks": {"products": {"done": True}}}}


def run(
    pim: SandboxProcess, tmp_path: Path, records: list[dict[str, Any] | str], **overrides: Any
) -> Run:
    """Records through the target; the entry "STATE" puts a STATE message there (the
    target settles before it), and one always ends the input."""
    messages: list[dict[str, Any]] = [
        {"type": "SCHEMA", "stream": "products", "schema": SCHEMA, "key_properties": ["sku"]}
    ]
    messages += [
        STATE if r == "STATE" else {"type": "RECORD", "stream": "products", "record": r}
        for r in records
    ]
    messages.append(STATE)
    config = sandbox_config(pim, tmp_path, mapping=overrides.pop("mapping", MAPPING), **overrides)
    config.pop("mapping_file")
    return run_target(config, "".join(json.dumps(m) + "\n" for m in messages), tmp_path)


def product_requests(pim: SandboxProcess) -> int:
    return sum(r["count"] for r in pim.stats()["requests"] if r["route"] == "/api/rest/v1/products")


def test_associations_to_products_later_in_the_input(pim: SandboxProcess, tmp_path: Path) -> None:
    bundle = [{"sku": "SHOE", "qty": 2}, {"sku": "SOCK", "qty": 3}]
    records = [record("KIT", ["SHOE"], bundle), record("SHOE", ["SOCK"]), record("SOCK")]
    result = run(pim, tmp_path, records)
    assert result.returncode == 0, result.stderr
    kit = pim.get_product("KIT")
    assert kit is not None
    assert kit["associations"]["X_SELL"]["products"] == ["SHOE"]
    assert kit["quantified_associations"]["BUNDLE"]["products"] == [
        {"identifier": "SHOE", "quantity": 2},
        {"identifier": "SOCK", "quantity": 3},
    ]
    shoe = pim.get_product("SHOE")
    assert shoe is not None
    assert shoe["associations"]["X_SELL"]["products"] == ["SOCK"]
    assert result.report["associations_sent"] == 3
    assert result.report["associations_failed"] == 0

    requests = product_requests(pim)
    again = run(pim, tmp_path, records)
    assert again.returncode == 0, again.stderr
    assert again.report["associations_unchanged"] == 3
    assert product_requests(pim) == requests  # nothing sent again


def test_association_to_a_product_that_exists_nowhere(pim: SandboxProcess, tmp_path: Path) -> None:
    records = [record("LONELY", related=["NOWHERE-1"]), record("FINE", related=["LONELY"])]
    result = run(pim, tmp_path, records)
    assert result.returncode == 0, result.stderr
    letters = [d for d in result.dead_letters() if d["reason"] == "association_error"]
    assert [d["identifier"] for d in letters] == ["LONELY"]
    assert "NOWHERE-1" in json.dumps(letters[0]["errors"]) + letters[0]["message"]
    lonely = pim.get_product("LONELY")
    assert lonely is not None
    assert lonely["values"]["name"][0]["data"] == "Name LONELY"  # its other data landed
    assert lonely["associations"]["X_SELL"]["products"] == []
    fine = pim.get_product("FINE")
    assert fine is not None
    assert fine["associations"]["X_SELL"]["products"] == ["LONELY"]
    assert result.report["associations_failed"] == 1
    assert result.report["associations_sent"] == 1


def test_lines_wait_across_states_in_the_state_store(pim: SandboxProcess, tmp_path: Path) -> None:
    """A line naming a product that comes after several STATEs waits for it (in the state
    store's file, not in memory); a newer record's line replaces the waiting one, and a line
    refused at the end keeps its record intact for the dead letter."""
    records: list[dict[str, Any] | str] = [
        record("A", ["C"]),
        record("B", ["A"]),
        "STATE",
        record("A", ["C", "B"]),
        "STATE",
        record("C"),
        {**record("Z", ["NOWHERE-2"]), "name": {"en": "Zoë ☂"}},
    ]
    result = run(pim, tmp_path, records)
    assert result.returncode == 0, result.stderr
    links = {}
    for sku in ("A", "B", "C"):
        product = pim.get_product(sku)
        assert product is not None
        links[sku] = sorted(product["associations"]["X_SELL"]["products"])
    assert links == {"A": ["B", "C"], "B": ["A"], "C": []}
    [letter] = [d for d in result.dead_letters() if d["reason"] == "association_error"]
    assert letter["identifier"] == "Z"
    assert letter["record"]["name"] == {"en": "Zoë ☂"}
    assert letter["payload"]["associations"]["X_SELL"]["products"] == ["NOWHERE-2"]
    assert (result.report["associations_sent"], result.report["associations_failed"]) == (3, 1)


def test_association_types_checked_before_sending(pim: SandboxProcess, tmp_path: Path) -> None:
    mapping = json.loads(json.dumps(MAPPING))
    mapping["products"]["associations"] = {
        "CROSS": {"products": "related_skus"},
        "BUNDLE": {"products": "related_skus"},
    }
    result = run(pim, tmp_path, [record("A", related=["B"]), record("B")], mapping=mapping)
    assert result.returncode == 1
    assert "products.associations.CROSS: unknown association type" in result.stderr
    assert "products.associations.BUNDLE: BUNDLE belongs under quantified_associations" in (
        result.stderr
    )
    assert pim.all_products() == []


def test_uuid_endpoint_associations(pim: SandboxProcess, tmp_path: Path) -> None:
    records = [record("U1", related=["U2"], bundle=[{"sku": "U2", "qty": 1}]), record("U2")]
    result = run(pim, tmp_path, records, product_endpoint="uuid")
    assert result.returncode == 0, result.stderr
    u1 = pim.get_product("U1")
    assert u1 is not None
    assert u1["associations"]["X_SELL"]["products"] == ["U2"]
    assert u1["quantified_associations"]["BUNDLE"]["products"] == [
        {"identifier": "U2", "quantity": 1}
    ]
