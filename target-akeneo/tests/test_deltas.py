"""Value-level deltas (`send: changed_values`), through the `target-akeneo` CLI against a
sandbox process: only what changed at the source is sent, so what a catalog manager
edited in the PIM survives; `send: whole_product` keeps sending every mapped value."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests

from target_akeneo.deltas import delta
from target_akeneo.testing import ACCEPTANCE_RECORDS, run_target, sandbox_config, singer_lines

SHOE, TEE = ACCEPTANCE_RECORDS[0], ACCEPTANCE_RECORDS[1]


def edit_in_pim(sandbox: Any, identifier: str, change: dict[str, Any]) -> None:
    """What a catalog manager does by hand in the PIM."""
    response = requests.patch(
        f"{sandbox.base_url}/api/rest/v1/products/{quote(identifier)}",
        json={"identifier": identifier, **change},
        headers={"Authorization": f"Bearer {sandbox.token()}"},
        timeout=10,
    )
    assert response.status_code == 204, response.text


def data(product: dict[str, Any] | None, attribute: str) -> Any:
    assert product is not None
    entries = product["values"].get(attribute)
    return None if not entries else entries[0]["data"]


def priced(record: dict[str, Any], amount: float) -> dict[str, Any]:
    return dict(record, prices=[{"amount": amount, "currency": "EUR"}])


def test_price_change_keeps_the_description_edited_in_the_pim(
    fresh_sandbox: Any, tmp_path: Path
) -> None:
    config = sandbox_config(fresh_sandbox, tmp_path)
    first = run_target(config, singer_lines([SHOE, TEE]), tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.report["values_sent"] == 9 + 8  # every mapped value of both: sent whole
    edited = [{"locale": "en_US", "scope": "ecommerce", "data": "Edited by the catalog team"}]
    edit_in_pim(fresh_sandbox, SHOE["sku"], {"values": {"description": edited}})

    again = run_target(config, singer_lines([priced(SHOE, 99.0), TEE]), tmp_path)
    assert again.returncode == 0, again.stderr
    shoe = fresh_sandbox.get_product(SHOE["sku"])
    assert data(shoe, "price") == [{"amount": "99.00", "currency": "EUR"}]
    assert data(shoe, "description") == "Edited by the catalog team"
    assert data(shoe, "name") == "Trail runner"
    assert (again.report["updated"], again.report["unchanged"]) == (1, 1)
    assert again.report["values_sent"] == 1
    assert "values_sent=1" in again.stderr


def test_whole_product_overwrites_the_pim_edit_as_before(
    fresh_sandbox: Any, tmp_path: Path
) -> None:
    config = sandbox_config(fresh_sandbox, tmp_path, send="whole_product")
    assert run_target(config, singer_lines([SHOE]), tmp_path).returncode == 0
    edited = [{"locale": "en_US", "scope": "ecommerce", "data": "Edited by the catalog team"}]
    edit_in_pim(fresh_sandbox, SHOE["sku"], {"values": {"description": edited}})
    unchanged = run_target(config, singer_lines([SHOE]), tmp_path)
    assert (unchanged.report["unchanged"], unchanged.report["product_requests"]) == (1, 0)
    again = run_target(config, singer_lines([priced(SHOE, 99.0)]), tmp_path)
    assert again.returncode == 0, again.stderr
    shoe = fresh_sandbox.get_product(SHOE["sku"])
    assert data(shoe, "price") == [{"amount": "99.00", "currency": "EUR"}]
    assert data(shoe, "description") == SHOE["description"]["en"]
    assert again.report["values_sent"] == 9


def test_value_emptied_in_the_erp_is_erased_in_the_pim(fresh_sandbox: Any, tmp_path: Path) -> None:
    config = sandbox_config(fresh_sandbox, tmp_path)
    assert run_target(config, singer_lines([SHOE]), tmp_path).returncode == 0
    assert data(fresh_sandbox.get_product(SHOE["sku"]), "ean") == SHOE["ean"]
    emptied = dict(SHOE, ean=None, name={"en": "Trail runner"})
    dry = run_target(
        dict(config, dry_run=True, dry_run_path=str(tmp_path / "dry.jsonl")),
        singer_lines([emptied]),
        tmp_path,
    )
    assert dry.returncode == 0, dry.stderr
    planned = [json.loads(line) for line in (tmp_path / "dry.jsonl").read_text().splitlines()]
    assert planned == [
        {
            "stream": "products",
            "payload": {
                "identifier": SHOE["sku"],
                "values": {
                    "ean": [{"locale": None, "scope": None, "data": None}],
                    "name": [{"locale": "de_DE", "scope": None, "data": None}],
                },
            },
        }
    ]
    run = run_target(config, singer_lines([emptied]), tmp_path)
    assert run.returncode == 0, run.stderr
    shoe = fresh_sandbox.get_product(SHOE["sku"])
    assert shoe is not None
    assert "ean" not in shoe["values"]
    assert [entry["locale"] for entry in shoe["values"]["name"]] == ["en_US"]
    assert run.report["values_sent"] == 2
    # Erased once: the next unchanged run sends nothing.
    again = run_target(config, singer_lines([emptied]), tmp_path)
    assert (again.report["unchanged"], again.report["product_requests"]) == (1, 0)


def test_category_added_by_hand_survives_until_the_erp_changes_categories(
    fresh_sandbox: Any, tmp_path: Path
) -> None:
    config = sandbox_config(fresh_sandbox, tmp_path)
    assert run_target(config, singer_lines([TEE]), tmp_path).returncode == 0
    edit_in_pim(fresh_sandbox, TEE["sku"], {"categories": ["summer_2026", "shoes_running"]})
    cheaper = priced(TEE, 39.0)
    assert run_target(config, singer_lines([cheaper]), tmp_path).returncode == 0
    tee = fresh_sandbox.get_product(TEE["sku"])
    assert tee is not None
    assert sorted(tee["categories"]) == ["shoes_running", "summer_2026"]
    assert data(tee, "price") == [{"amount": "39.00", "currency": "EUR"}]
    moved = dict(cheaper, categories=["master"])
    run = run_target(config, singer_lines([moved]), tmp_path)
    assert run.returncode == 0, run.stderr
    tee = fresh_sandbox.get_product(TEE["sku"])
    assert tee is not None
    assert tee["categories"] == ["master"]
    assert run.report["values_sent"] == 0


def test_rejected_delta_is_retried_without_losing_the_change(
    fresh_sandbox: Any, tmp_path: Path
) -> None:
    config = sandbox_config(fresh_sandbox, tmp_path)
    assert run_target(config, singer_lines([SHOE, TEE]), tmp_path).returncode == 0
    changed = dict(priced(SHOE, 99.0), color="PURPLE")  # no such option yet: 422
    rejected = run_target(config, singer_lines([changed, TEE]), tmp_path)
    assert rejected.returncode == 0, rejected.stderr
    assert rejected.report["rejected"] == 1
    [letter] = rejected.dead_letters()
    assert letter["payload"]["values"].keys() == {"price", "color"}
    shoe = fresh_sandbox.get_product(SHOE["sku"])
    assert (data(shoe, "color"), data(shoe, "price")[0]["amount"]) == ("red", "129.90")

    response = requests.post(
        f"{fresh_sandbox.base_url}/api/rest/v1/attributes/color/options",
        json={"code": "PURPLE", "labels": {"en_US": "Purple"}},
        headers={"Authorization": f"Bearer {fresh_sandbox.token()}"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    # The next run's export no longer holds the shoe: the kept record is sent again.
    retry = run_target(config, singer_lines([TEE]), tmp_path)
    assert retry.returncode == 0, retry.stderr
    assert (retry.report["retried"], retry.report["updated"]) == (1, 1)
    assert retry.report["values_sent"] == 2
    shoe = fresh_sandbox.get_product(SHOE["sku"])
    assert (data(shoe, "color"), data(shoe, "price")) == (
        "PURPLE",
        [{"amount": "99.00", "currency": "EUR"}],
    )


def test_product_deleted_in_the_pim_is_sent_whole_again(fresh_sandbox: Any, tmp_path: Path) -> None:
    config = sandbox_config(fresh_sandbox, tmp_path)
    assert run_target(config, singer_lines([SHOE, TEE]), tmp_path).returncode == 0
    response = requests.delete(
        f"{fresh_sandbox.base_url}/api/rest/v1/products/{quote(SHOE['sku'])}",
        headers={"Authorization": f"Bearer {fresh_sandbox.token()}"},
        timeout=10,
    )
    assert response.status_code == 204, response.text
    run = run_target(config, singer_lines([priced(SHOE, 99.0), TEE]), tmp_path)
    assert run.returncode == 0, run.stderr
    assert "deleted in the PIM since last confirmed: sent whole again" in run.stderr
    shoe = fresh_sandbox.get_product(SHOE["sku"])
    assert shoe is not None
    assert shoe["family"] == "shoes"
    assert sorted(shoe["categories"]) == ["shoes_running", "summer_2026"]
    assert data(shoe, "name") == "Trail runner"
    assert data(shoe, "price") == [{"amount": "99.00", "currency": "EUR"}]
    # Created by the delta's line, then completed by the whole one: counted once, as created.
    assert (run.report["created"], run.report["updated"], run.report["unchanged"]) == (1, 0, 1)
    assert run.report["values_sent"] == 1 + 9  # the delta, then the whole product
    again = run_target(config, singer_lines([priced(SHOE, 99.0), TEE]), tmp_path)
    assert (again.report["unchanged"], again.report["product_requests"]) == (2, 0)


def test_two_versions_in_one_run_end_with_the_newest_values(
    fresh_sandbox: Any, tmp_path: Path
) -> None:
    """Batches hold 200 records: the product's two versions are two deltas in flight."""
    config = sandbox_config(fresh_sandbox, tmp_path)
    filler = [dict(TEE, sku=f"FILL-{number:03d}", ean=None) for number in range(240)]
    assert run_target(config, singer_lines([SHOE, *filler]), tmp_path).returncode == 0
    edited = [{"locale": "en_US", "scope": "ecommerce", "data": "Edited by the catalog team"}]
    edit_in_pim(fresh_sandbox, SHOE["sku"], {"values": {"description": edited}})
    older, newer = priced(SHOE, 99.0), dict(priced(SHOE, 98.0), color="BL")
    run = run_target(config, singer_lines([older, *filler, newer]), tmp_path)
    assert run.returncode == 0, run.stderr
    assert (run.report["updated"], run.report["unchanged"]) == (2, 240)
    assert run.report["values_sent"] == 1 + 2  # the price, then the price and the colour
    shoe = fresh_sandbox.get_product(SHOE["sku"])
    assert data(shoe, "price") == [{"amount": "98.00", "currency": "EUR"}]
    assert data(shoe, "color") == "blue"
    assert data(shoe, "description") == "Edited by the catalog team"


def test_state_is_short_hashes_and_an_unreadable_one_sends_whole() -> None:
    payload = {
        "identifier": "A",
        "family": "shoes",
        "values": {"name": [{"locale": "en_US", "scope": None, "data": "x" * 500}]},
    }
    found = delta(payload, None, whole=False)
    assert found.payload is payload
    # The version, the whole payload's hash, then a key and a content hash per part.
    assert len(found.state) == 1 + 8 + 2 * 12
    assert delta(payload, found.state, whole=False).payload is None
    # A state written before value hashes (one 16-byte payload hash) is not understood.
    assert delta(payload, bytes(16), whole=False).payload is payload


def test_the_same_values_in_another_order_are_unchanged_and_a_change_is_seen() -> None:
    entries = [
        {"locale": "en_US", "scope": None, "data": "Shoe"},
        {"locale": "de_DE", "scope": None, "data": "Schuh"},
    ]
    payload = {"identifier": "A", "values": {"name": entries}}
    state = delta(payload, None, whole=False).state
    # Another order misses the whole-payload hash; the parts still say nothing changed.
    reordered = {"identifier": "A", "values": {"name": entries[::-1]}}
    assert delta(reordered, state, whole=False).payload is None
    changed = {"identifier": "A", "values": {"name": [entries[0], {**entries[1], "data": "X"}]}}
    sent = delta(changed, state, whole=False).payload
    assert sent == {
        "identifier": "A",
        "values": {"name": [{"locale": "de_DE", "scope": None, "data": "X"}]},
    }
