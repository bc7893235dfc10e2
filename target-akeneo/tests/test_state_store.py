"""The per-stream state store, through the `target-akeneo` CLI against a sandbox process:
two streams filling the same products remember what each sent, and an old-shaped store
file does not stop a run."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from target_akeneo.testing import ACCEPTANCE_RECORDS, run_target, sandbox_config, singer_lines

PRODUCT_ROUTES = ("/api/rest/v1/products", "/api/rest/v1/products-uuid")

# Master data and prices from two files, each stream mapping only its own values.
TWO_STREAMS = {
    "master": {
        "identifier": "sku",
        "family": {"field": "group", "map": {"SHOES": "shoes", "TSHIRT": "tshirts"}},
        "categories": "categories",
        "values": {"name": {"field": "name", "locales": {"en": "en_US"}}},
    },
    "prices": {
        "identifier": "sku",
        "values": {"price": {"field": "prices", "amount": "amount", "currency": "currency"}},
    },
}


def product_patches(sandbox: Any) -> int:
    return sum(
        row["count"]
        for row in sandbox.stats()["requests"]
        if row["method"] == "PATCH" and row["route"] in PRODUCT_ROUTES
    )


def both(records: list[dict[str, Any]]) -> str:
    return singer_lines(records, "master") + singer_lines(records, "prices")


def test_two_streams_on_the_same_products_rerun_sends_nothing(
    fresh_sandbox: Any, tmp_path: Path
) -> None:
    config = sandbox_config(fresh_sandbox, tmp_path, mapping=TWO_STREAMS)
    del config["mapping_file"]
    records = ACCEPTANCE_RECORDS[:2]
    first = run_target(config, both(records), tmp_path)
    assert first.returncode == 0, first.stderr
    assert (first.report["created"], first.report["updated"]) == (2, 2)
    product = fresh_sandbox.get_product("SKU-100234")
    assert product["family"] == "shoes"
    assert product["values"]["name"][0]["data"] == "Trail runner"
    assert {p["currency"] for p in product["values"]["price"][0]["data"]} == {"EUR", "USD"}
    patches = product_patches(fresh_sandbox)

    again = run_target(config, both(records), tmp_path)
    assert again.returncode == 0, again.stderr
    assert product_patches(fresh_sandbox) == patches
    assert again.report["product_requests"] == 0
    assert again.report["unchanged"] == 4

    # A price change is sent by the prices stream only; the master data is not resent.
    cheaper = [dict(records[0], prices=[{"amount": 99.0, "currency": "EUR"}]), records[1]]
    third = run_target(config, both(cheaper), tmp_path)
    assert (third.report["updated"], third.report["unchanged"]) == (1, 3)
    assert product_patches(fresh_sandbox) == patches + 1
    price = fresh_sandbox.get_product("SKU-100234")["values"]["price"][0]["data"]
    assert [(p["amount"], p["currency"]) for p in price] == [("99.00", "EUR")]


def test_old_shaped_store_is_dropped_and_products_are_sent_whole(
    fresh_sandbox: Any, tmp_path: Path
) -> None:
    config = sandbox_config(fresh_sandbox, tmp_path)
    with sqlite3.connect(tmp_path / "cache.sqlite") as old:
        old.execute(
            "CREATE TABLE sent (base_url TEXT NOT NULL, endpoint TEXT NOT NULL,"
            " identifier TEXT NOT NULL, hash TEXT NOT NULL,"
            " PRIMARY KEY (base_url, endpoint, identifier))"
        )
        old.execute(
            "INSERT INTO sent VALUES (?, 'identifier', 'SKU-100234', 'ab')",
            (fresh_sandbox.base_url,),
        )
    run = run_target(config, singer_lines(ACCEPTANCE_RECORDS[:3]), tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.report["created"] == 3
    assert "skip-unchanged store from an earlier version dropped" in run.stderr
    again = run_target(config, singer_lines(ACCEPTANCE_RECORDS[:3]), tmp_path)
    assert again.report["unchanged"] == 3
    assert "earlier version" not in again.stderr
