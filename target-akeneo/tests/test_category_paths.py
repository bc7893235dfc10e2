"""Category trees from paths through the target CLI and a sandbox process (demo catalog:
tree `master` with `new_arrivals` and `clearance`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from akeneo_sandbox.testing import SandboxProcess
from target_akeneo.category_paths import node_code
from target_akeneo.testing import Run, run_target, sandbox_config

SCHEMA = {
    "type": "object",
    "properties": {"sku": {"type": "string"}, "product_type": {"type": ["string", "null"]}},
}
MAPPING = {
    "products": {
        "identifier": "sku",
        "categories": {"field": "product_type", "path_separator": " > ", "root": "master"},
    }
}


def run(pim: SandboxProcess, tmp_path: Path, records: list[dict[str, Any]], **config: Any) -> Run:
    messages: list[dict[str, Any]] = [
        {"type": "SCHEMA", "stream": "products", "schema": SCHEMA, "key_properties": ["sku"]}
    ]
    messages += [{"type": "RECORD", "stream": "products", "record": r} for r in records]
    messages.append({"type": "STATE", "value": {"bookmarks": {"products": {"done": True}}}})
    settings = sandbox_config(pim, tmp_path, mapping=config.pop("mapping", MAPPING), **config)
    settings.pop("mapping_file")
    return run_target(settings, "".join(json.dumps(m) + "\n" for m in messages), tmp_path)


def category(pim: SandboxProcess, code: str) -> dict[str, Any] | None:
    response = pim.api_get(f"categories/{code}")
    return None if response.status_code == 404 else dict(response.json())


def category_writes(pim: SandboxProcess) -> int:
    return sum(
        r["count"]
        for r in pim.stats()["requests"]
        if r["route"].startswith("/api/rest/v1/categories") and r["method"] != "GET"
    )


def test_missing_categories_created_under_the_root(pim: SandboxProcess, tmp_path: Path) -> None:
    records = [
        {"sku": "P1", "product_type": "Apparel > Shirts > Polos"},
        {"sku": "P2", "product_type": "Apparel > Shirts"},
        {"sku": "P3", "product_type": "Café & Bar > Espresso-Maschinen"},
    ]
    result = run(pim, tmp_path, records, create_missing_categories=True)
    assert result.returncode == 0, result.stderr
    assert result.report["created"] == 3
    p1, p2, p3 = (pim.get_product(sku) for sku in ("P1", "P2", "P3"))
    assert p1 is not None
    assert p2 is not None
    assert p3 is not None
    assert p1["categories"] == ["apparel_shirts_polos"]
    assert p2["categories"] == ["apparel_shirts"]
    assert p3["categories"] == ["cafe_bar_espresso_maschinen"]
    polos, shirts, apparel = (
        category(pim, code) for code in ("apparel_shirts_polos", "apparel_shirts", "apparel")
    )
    assert polos is not None
    assert shirts is not None
    assert apparel is not None
    assert (polos["parent"], polos["labels"]["en_US"]) == ("apparel_shirts", "Polos")
    assert (shirts["parent"], shirts["labels"]["en_US"]) == ("apparel", "Shirts")
    assert apparel["parent"] == "master"
    espresso = category(pim, "cafe_bar_espresso_maschinen")
    assert espresso is not None
    assert espresso["labels"]["en_US"] == "Espresso-Maschinen"

    writes = category_writes(pim)
    again = run(pim, tmp_path, [*records, {"sku": "P4", "product_type": "Apparel > Shirts"}],
                create_missing_categories=True)  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert category_writes(pim) == writes  # all exist now: nothing created again
    p4 = pim.get_product("P4")
    assert p4 is not None
    assert p4["categories"] == ["apparel_shirts"]


def test_unknown_categories_reported_before_sending(pim: SandboxProcess, tmp_path: Path) -> None:
    records = [
        {"sku": "K1", "product_type": "New arrivals"},  # exists: code new_arrivals
        {"sku": "K2", "product_type": "Garden > Tools"},
    ]
    result = run(pim, tmp_path, records)
    assert result.returncode == 0, result.stderr
    k1 = pim.get_product("K1")
    assert k1 is not None
    assert k1["categories"] == ["new_arrivals"]
    assert pim.get_product("K2") is None
    letters = result.dead_letters()
    assert [(d["identifier"], d["reason"]) for d in letters] == [("K2", "unknown_category")]
    assert "category 'Tools' (code 'garden_tools', under 'garden')" in letters[0]["message"]
    assert category_writes(pim) == 0
    assert category(pim, "garden") is None
    assert result.report["rejected"] == 1


def test_unknown_root_stops_the_run(pim: SandboxProcess, tmp_path: Path) -> None:
    mapping = json.loads(json.dumps(MAPPING))
    mapping["products"]["categories"]["root"] = "nope"
    result = run(pim, tmp_path, [{"sku": "R1", "product_type": "A"}], mapping=mapping)
    assert result.returncode == 1
    assert "products.categories.root: category 'nope' does not exist in the PIM" in result.stderr
    assert pim.all_products() == []


def test_codes_are_valid_and_stable() -> None:
    assert node_code(["Apparel", "Shirts"]) == "apparel_shirts"
    assert node_code(["Été 2026!"]) == "ete_2026"
    only_symbols = node_code(["★★"])
    assert only_symbols.startswith("category_")
    assert only_symbols == node_code(["★★"])
    long = node_code(["x" * 80, "y" * 80])
    assert len(long) <= 100
    assert long != node_code(["x" * 80, "y" * 81])
