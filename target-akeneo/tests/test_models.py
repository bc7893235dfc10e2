"""Product models from flat rows, through the `target-akeneo` CLI against a sandbox process
seeded with a clothing catalog (family variants `clothing_color_size` and `clothing_size`)."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from akeneo_sandbox.testing import SandboxProcess
from target_akeneo.testing import (
    REPO,
    Run,
    frequent_drains_command,
    preview_rows,
    run_target,
    sandbox_config,
    start_target,
)

VARIANT_CATALOG = REPO / "tests" / "data" / "variants" / "catalog.json"
WRITE_ROUTES = ("/api/rest/v1/products", "/api/rest/v1/product-models")

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "sku": {"type": "string"},
        "style": {"type": ["string", "null"]},
        "name": {"type": ["string", "null"]},
        "material": {"type": ["string", "null"]},
        "color": {"type": ["string", "null"]},
        "size": {"type": ["string", "null"]},
        "qty": {"type": ["integer", "null"]},
    },
}

MAPPING: dict[str, Any] = {
    "products": {
        "identifier": "sku",
        "family": {"value": "clothing"},
        "model": {
            "code": "style",
            "family_variant": {"value": "clothing_color_size"},
            "sub_model_code": {"template": "{style}_{color}"},
        },
        "values": {
            "name": {"field": "name", "locale": "en_US"},
            "material": "material",
            "color": "color",
            "size": "size",
            "quantity": "qty",
        },
    }
}


def rows(
    styles: int = 2, colors: tuple[str, ...] = ("black", "red"), sizes: int = 2
) -> list[dict[str, Any]]:
    found = []
    for s in range(styles):
        for color in colors:
            for size in ("s", "m", "l", "xl")[:sizes]:
                found.append(
                    {
                        "sku": f"T{s}-{color}-{size}",
                        "style": f"TEE{s}",
                        "name": f"Tee {s}",
                        "material": "cotton",
                        "color": color,
                        "size": size,
                        "qty": 5,
                    }
                )
    return found


def lines(records: list[dict[str, Any]]) -> str:
    messages = [
        {"type": "SCHEMA", "stream": "products", "schema": SCHEMA, "key_properties": ["sku"]}
    ]
    messages += [{"type": "RECORD", "stream": "products", "record": r} for r in records]
    messages.append({"type": "STATE", "value": {"bookmarks": {"products": {"done": True}}}})
    return "".join(json.dumps(m) + "\n" for m in messages)


def writes(stats: dict[str, Any]) -> int:
    return sum(
        row["count"]
        for row in stats["requests"]
        if row["method"] in ("PATCH", "POST") and row["route"].startswith(WRITE_ROUTES)
    )


def data(entity: dict[str, Any] | None, attribute: str) -> Any:
    assert entity is not None
    entries = entity.get("values", {}).get(attribute)
    return None if not entries else entries[0]["data"]


@pytest.fixture(scope="module")
def clothing() -> Iterator[Any]:
    with SandboxProcess(catalog=VARIANT_CATALOG) as sb:
        yield sb


@pytest.fixture
def pim(clothing: Any) -> Any:
    clothing.reset()
    return clothing


def config(
    pim: Any, tmp_path: Path, mapping: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    cfg = sandbox_config(pim, tmp_path, mapping=mapping or MAPPING, **extra)
    cfg.pop("mapping_file")
    return cfg


def test_two_level_models_from_flat_rows(pim: Any, tmp_path: Path) -> None:
    run = run_target(config(pim, tmp_path), lines(rows()), tmp_path)
    assert run.returncode == 0, run.stderr
    roots = {m["code"] for m in pim.all_product_models() if m["parent"] is None}
    subs = {m["code"]: m["parent"] for m in pim.all_product_models() if m["parent"]}
    assert roots == {"TEE0", "TEE1"}
    assert subs == {
        "TEE0_black": "TEE0",
        "TEE0_red": "TEE0",
        "TEE1_black": "TEE1",
        "TEE1_red": "TEE1",
    }
    root = pim.get_product_model("TEE0")
    assert root["family_variant"] == "clothing_color_size"
    assert set(root["values"]) == {"name", "material"}
    sub = pim.get_product_model("TEE0_red")
    assert data(sub, "color") == "red"
    product = pim.get_product("T0-red-m")
    assert product["parent"] == "TEE0_red"
    assert data(product, "size") == "m"
    assert data(product, "quantity") == 5
    assert data(product, "name") == "Tee 0"  # shown from the root model
    stats = pim.stats()
    assert stats["values_dropped"] == 0
    assert len(pim.all_products()) == 8
    report = run.report
    assert report["created"] == 8
    assert report["models"] == {"created": 6, "updated": 0, "unchanged": 0, "rejected": 0}
    assert "models: created=6 updated=0 unchanged=0 rejected=0" in run.stderr
    # One request for the roots, one for the sub-models, one for the products.
    assert writes(stats) == 3


def test_one_level_family_variant(pim: Any, tmp_path: Path) -> None:
    mapping = copy.deepcopy(MAPPING)
    mapping["products"]["model"] = {"code": "style", "family_variant": {"value": "clothing_size"}}
    records = rows(styles=1, colors=("black",), sizes=3)
    run = run_target(config(pim, tmp_path, mapping), lines(records), tmp_path)
    assert run.returncode == 0, run.stderr
    root = pim.get_product_model("TEE0")
    assert set(root["values"]) == {"name", "material", "color"}
    assert root["parent"] is None
    assert [m["code"] for m in pim.all_product_models()] == ["TEE0"]
    product = pim.get_product("T0-black-l")
    assert product["parent"] == "TEE0"
    assert data(product, "size") == "l"
    assert pim.stats()["values_dropped"] == 0


def test_default_sub_model_code(pim: Any, tmp_path: Path) -> None:
    mapping = copy.deepcopy(MAPPING)
    del mapping["products"]["model"]["sub_model_code"]
    run = run_target(config(pim, tmp_path, mapping), lines(rows(styles=1)), tmp_path)
    assert run.returncode == 0, run.stderr
    assert pim.get_product("T0-red-s")["parent"] == "TEE0_red"


def test_conflict_and_duplicate_axes_dead_lettered(pim: Any, tmp_path: Path) -> None:
    records = rows()
    records[1]["material"] = "wool"  # TEE0 disagrees on a root value
    duplicate = dict(records[-1], sku="T1-dup")  # same axes as the last TEE1 row
    records.append(duplicate)
    run = run_target(config(pim, tmp_path), lines(records), tmp_path)
    assert run.returncode == 0, run.stderr
    letters = {letter["identifier"]: letter for letter in run.dead_letters()}
    tee0 = {r["sku"] for r in records if r["style"] == "TEE0"}
    assert set(letters) == tee0 | {"T1-dup"}
    for sku in tee0:
        assert letters[sku]["reason"] == "model_conflict"
        assert "material" in letters[sku]["message"]
        assert '"cotton"' in letters[sku]["message"]
        assert '"wool"' in letters[sku]["message"]
    assert letters["T1-dup"]["reason"] == "duplicate_axes"
    assert records[-2]["sku"] in letters["T1-dup"]["message"]
    # Nothing else lost: every TEE1 row is a variant in the PIM.
    stored = {p["identifier"] for p in pim.all_products()}
    assert stored == {r["sku"] for r in records if r["style"] == "TEE1"} - {"T1-dup"}
    assert pim.get_product_model("TEE0") is None
    report = run.report
    assert report["received"] == report["created"] + report["rejected"]


def test_models_planned_in_chunks_keep_their_checks(pim: Any, tmp_path: Path) -> None:
    """More rows than one planning chunk (models.CHUNK_ROWS): every model still goes before
    its variants, and a conflict is found in any chunk, also with a row read long after the
    others of its model."""
    records = rows(styles=1300)  # 5200 rows: 1300 roots and 2600 sub-models, three chunks
    for record in records:
        if record["sku"] in ("T0-red-s", "T999-black-m"):  # the first and the last chunk
            record["material"] = "wool"
    records.append(dict(records[20], sku="T5-late", size="xl", material="wool"))
    run = run_target(config(pim, tmp_path), lines(records), tmp_path)
    assert run.returncode == 0, run.stderr
    letters = {letter["identifier"]: letter["reason"] for letter in run.dead_letters()}
    refused = {r["sku"] for r in records if r["style"] in ("TEE0", "TEE5", "TEE999")}
    assert letters == dict.fromkeys(refused, "model_conflict")
    stored = {p["identifier"]: p["parent"] for p in pim.all_products()}
    assert set(stored) == {r["sku"] for r in records} - refused
    assert stored["T1299-red-m"] == "TEE1299_red"
    assert len(pim.all_product_models()) == 3 * 1297
    assert pim.stats()["values_dropped"] == 0
    assert run.report["models"]["created"] == 3 * 1297


def test_rejected_model_dead_letters_its_children(pim: Any, tmp_path: Path) -> None:
    records = rows()
    for record in records:
        if record["style"] == "TEE1":
            record["name"] = "x" * 300  # longer than the attribute allows: the root is refused
    run = run_target(config(pim, tmp_path), lines(records), tmp_path)
    assert run.returncode == 0, run.stderr
    letters = run.dead_letters()
    assert {letter["identifier"] for letter in letters} == {
        r["sku"] for r in records if r["style"] == "TEE1"
    }
    assert all(letter["reason"] == "model_rejected" for letter in letters)
    assert all("model 'TEE1" in letter["message"] for letter in letters)
    assert all(letter["status_code"] == 422 for letter in letters)
    assert pim.get_product_model("TEE1") is None
    assert len(pim.all_products()) == 4
    assert run.report["models"]["rejected"] == 3  # the root and its two sub-models


def test_rerun_unchanged_costs_no_request(pim: Any, tmp_path: Path) -> None:
    cfg = config(pim, tmp_path)
    assert run_target(cfg, lines(rows()), tmp_path).returncode == 0
    before = writes(pim.stats())
    run = run_target(cfg, lines(rows()), tmp_path)
    assert run.returncode == 0, run.stderr
    assert writes(pim.stats()) == before
    assert run.report["unchanged"] == 8
    assert run.report["models"]["unchanged"] == 6


def test_changed_model_value_sent_once_to_the_model(pim: Any, tmp_path: Path) -> None:
    cfg = config(pim, tmp_path)
    assert run_target(cfg, lines(rows()), tmp_path).returncode == 0
    before = pim.stats()
    changed = rows()
    for record in changed:
        if record["style"] == "TEE0":
            record["material"] = "linen"
    run = run_target(cfg, lines(changed), tmp_path)
    assert run.returncode == 0, run.stderr
    after = pim.stats()
    assert writes(after) - writes(before) == 1
    assert after["product_models_written"] - before["product_models_written"] == 1
    assert after["products_written"] == before["products_written"]
    assert data(pim.get_product_model("TEE0"), "material") == "linen"
    assert data(pim.get_product("T0-black-s"), "material") == "linen"
    assert run.report["models"] == {"created": 0, "updated": 1, "unchanged": 5, "rejected": 0}


def test_changed_model_value_keeps_a_model_value_edited_in_the_pim(
    pim: Any, tmp_path: Path
) -> None:
    """`send: changed_values` for models too: the model line carries the material only."""
    cfg = config(pim, tmp_path)
    assert run_target(cfg, lines(rows()), tmp_path).returncode == 0
    edited = {"name": [{"locale": "en_US", "scope": None, "data": "Edited tee"}]}
    response = requests.patch(
        f"{pim.base_url}/api/rest/v1/product-models/TEE0",
        json={"code": "TEE0", "values": edited},
        headers={"Authorization": f"Bearer {pim.token()}"},
        timeout=10,
    )
    assert response.status_code == 204, response.text
    changed = [dict(r, material="linen") if r["style"] == "TEE0" else r for r in rows()]
    run = run_target(cfg, lines(changed), tmp_path)
    assert run.returncode == 0, run.stderr
    model = pim.get_product_model("TEE0")
    assert (data(model, "material"), data(model, "name")) == ("linen", "Edited tee")
    assert run.report["models"]["updated"] == 1


def variant_reads(stats: dict[str, Any]) -> int:
    """Family variant reads: a target reads the ones it maps once started, before its input."""
    return sum(
        row["count"] for row in stats["requests"] if row["route"].endswith("/variants/{code}")
    )


def rerun_writes(
    pim: Any, cfg: dict[str, Any], singer: str, tmp_path: Path
) -> tuple[Any, dict[str, int]]:
    """Run again with the same state store: the run, and the writes it made (requests,
    products and models written), counted by the sandbox."""
    before = pim.stats()
    run = run_target(cfg, singer, tmp_path)
    assert run.returncode == 0, run.stderr
    after = pim.stats()
    return run, {
        "requests": writes(after) - writes(before),
        "products": after["products_written"] - before["products_written"],
        "models": after["product_models_written"] - before["product_models_written"],
    }


def test_unchanged_rerun_beyond_one_chunk_writes_nothing(pim: Any, tmp_path: Path) -> None:
    """Models found unchanged as their rows are held are counted, never planned or sent."""
    cfg = config(pim, tmp_path)
    records = rows(styles=600)  # 2400 rows: more than one planning chunk
    assert run_target(cfg, lines(records), tmp_path).returncode == 0
    run, written = rerun_writes(pim, cfg, lines(records), tmp_path)
    assert written == {"requests": 0, "products": 0, "models": 0}
    assert run.report["unchanged"] == 2400
    assert run.report["models"] == {"created": 0, "updated": 0, "unchanged": 1800, "rejected": 0}
    assert run.dead_letters() == []


def test_one_changed_variant_in_an_unchanged_rerun_lands(pim: Any, tmp_path: Path) -> None:
    cfg = config(pim, tmp_path)
    assert run_target(cfg, lines(rows()), tmp_path).returncode == 0
    changed = [dict(r, qty=7) if r["sku"] == "T1-red-m" else r for r in rows()]
    run, written = rerun_writes(pim, cfg, lines(changed), tmp_path)
    assert written == {"requests": 1, "products": 1, "models": 0}
    assert data(pim.get_product("T1-red-m"), "quantity") == 7
    assert data(pim.get_product("T1-red-s"), "quantity") == 5
    assert run.report["unchanged"] == 7
    assert run.report["models"]["unchanged"] == 6


def test_new_and_moved_variants_of_unchanged_models(pim: Any, tmp_path: Path) -> None:
    """A new variant under an existing sub-model and a variant moved to a new sub-model:
    only they and the new sub-model are sent; the models they leave untouched are not."""
    cfg = config(pim, tmp_path)
    assert run_target(cfg, lines(rows()), tmp_path).returncode == 0
    records = [dict(r, color="white") if r["sku"] == "T0-black-s" else r for r in rows()]
    records.append(dict(rows()[0], sku="T0-black-l", size="l"))
    run, written = rerun_writes(pim, cfg, lines(records), tmp_path)
    # The new sub-model TEE0_white, then both products in one request.
    assert written == {"requests": 2, "products": 2, "models": 1}
    assert pim.get_product("T0-black-s")["parent"] == "TEE0_white"
    assert pim.get_product_model("TEE0_white")["parent"] == "TEE0"
    assert data(pim.get_product_model("TEE0_white"), "color") == "white"
    assert pim.get_product("T0-black-l")["parent"] == "TEE0_black"
    assert run.report["models"] == {"created": 1, "updated": 0, "unchanged": 6, "rejected": 0}
    assert run.dead_letters() == []


def test_one_row_disagreeing_in_an_unchanged_rerun_refuses_its_model(
    pim: Any, tmp_path: Path
) -> None:
    """A changed root value in one row of a model conflicts with the model's other,
    unchanged rows, as it does on a first load; the other models stay unchanged."""
    cfg = config(pim, tmp_path)
    assert run_target(cfg, lines(rows()), tmp_path).returncode == 0
    records = [dict(r, material="wool") if r["sku"] == "T0-red-m" else r for r in rows()]
    run, written = rerun_writes(pim, cfg, lines(records), tmp_path)
    assert written == {"requests": 0, "products": 0, "models": 0}
    letters = {letter["identifier"]: letter["reason"] for letter in run.dead_letters()}
    assert letters == {r["sku"]: "model_conflict" for r in records if r["style"] == "TEE0"}
    assert data(pim.get_product_model("TEE0"), "material") == "cotton"
    assert run.report["models"]["unchanged"] == 3  # TEE1 and its two sub-models


def test_rows_after_a_state_are_checked_against_unchanged_models(pim: Any, tmp_path: Path) -> None:
    """Models counted unchanged at one settle still check rows of theirs read after it: a
    disagreeing value and duplicate axis values are refused, as for planned models.

    singer-sdk settles on full drains only (end of input, and every 5 minutes, shortened here
    to 1 s), so the input pauses after the first STATE; the record read after the pause is
    still drained with the first settle (a new variant of TEE1: that model is planned)."""
    cfg = config(pim, tmp_path)
    base = rows(styles=3)
    assert run_target(cfg, lines(base), tmp_path).returncode == 0
    before = pim.stats()
    trigger = dict(base[4], sku="T1-black-l", size="l")
    late = [
        dict(base[0], sku="T0-dup"),  # the axes of T0-black-s
        dict(base[8], sku="T2-late", size="l", material="wool"),  # TEE2 is cotton
    ]
    schema, *records = lines(base).splitlines(keepends=True)
    target = start_target(cfg, tmp_path, frequent_drains_command())
    assert target.stdin is not None
    target.stdin.write(schema + "".join(records))
    target.stdin.flush()
    for _ in range(600):  # until the target is up, at most a minute
        if variant_reads(pim.stats()) > variant_reads(before):
            break
        time.sleep(0.1)
    time.sleep(1.5)
    tail = "".join(
        json.dumps({"type": "RECORD", "stream": "products", "record": r}) + "\n"
        for r in (trigger, *late)
    )
    out, err = target.communicate(tail + records[-1].replace('"done"', '"late"'), timeout=120)
    assert target.returncode == 0, err
    assert len(out.splitlines()) == 2  # a STATE for each settle
    after = pim.stats()
    assert writes(after) - writes(before) == 1
    assert after["products_written"] - before["products_written"] == 1
    assert after["product_models_written"] == before["product_models_written"]
    assert pim.get_product("T1-black-l")["parent"] == "TEE1_black"
    run = Run(target.returncode, out, err, cfg)
    letters = {letter["identifier"]: letter for letter in run.dead_letters()}
    assert {key: letter["reason"] for key, letter in letters.items()} == {
        "T0-dup": "duplicate_axes",
        "T2-late": "model_conflict",
    }
    assert "T0-black-s" in letters["T0-dup"]["message"]
    assert '"wool"' in letters["T2-late"]["message"]
    assert pim.get_product("T0-dup") is None
    assert pim.get_product("T2-late") is None
    assert run.report["models"]["unchanged"] == 9


def test_simple_product_becomes_variant_and_back(pim: Any, tmp_path: Path) -> None:
    records = rows(styles=1, colors=("black",), sizes=2)
    simple = [dict(r, style=None) for r in records]
    cfg = config(pim, tmp_path)
    first = run_target(cfg, lines(simple), tmp_path)
    assert first.returncode == 0, first.stderr
    assert pim.get_product("T0-black-s")["parent"] is None
    run = run_target(cfg, lines(records), tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.dead_letters() == []
    product = pim.get_product("T0-black-s")
    assert product["parent"] == "TEE0_black"
    assert data(product, "material") == "cotton"
    back = run_target(cfg, lines(simple), tmp_path)
    assert back.returncode == 0, back.stderr
    assert pim.get_product("T0-black-s")["parent"] is None
    assert pim.stats()["values_dropped"] == 0


def test_checked_before_sending(pim: Any, tmp_path: Path) -> None:
    mapping = copy.deepcopy(MAPPING)
    del mapping["products"]["values"]["size"]
    mapping["products"]["values"]["release_date"] = "name"
    run = run_target(config(pim, tmp_path, mapping), lines(rows()), tmp_path)
    assert run.returncode == 1
    assert (
        "axis 'size' of level 2 of family variant 'clothing_color_size' is not mapped" in run.stderr
    )
    assert "attribute 'release_date' is not in family 'clothing'" in run.stderr
    wrong = copy.deepcopy(MAPPING)
    wrong["products"]["model"]["family_variant"] = {"value": "shoes_by_size"}
    run = run_target(config(pim, tmp_path, wrong), lines(rows()), tmp_path)
    assert run.returncode == 1
    assert "family variant 'shoes_by_size' does not exist in family 'clothing'" in run.stderr
    assert writes(pim.stats()) == 0


MODEL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "code": {"type": "string"},
        "parent": {"type": ["string", "null"]},
        "name": {"type": ["string", "null"]},
        "color": {"type": ["string", "null"]},
    },
}

STREAMS_MAPPING: dict[str, Any] = {
    "styles": {
        "product_models": {
            "code": "code",
            "family_variant": {"value": "clothing_color_size"},
            "parent": "parent",
            "values": {"name": {"field": "name", "locale": "en_US"}, "color": "color"},
        }
    },
    "products": {
        "identifier": "sku",
        "family": {"value": "clothing"},
        "parent": {"field": "style"},
        "values": {"size": "size", "quantity": "qty"},
    },
}


def two_streams(models: list[dict[str, Any]], products: list[dict[str, Any]]) -> str:
    messages: list[dict[str, Any]] = [
        {"type": "SCHEMA", "stream": "styles", "schema": MODEL_SCHEMA, "key_properties": ["code"]}
    ]
    messages += [{"type": "RECORD", "stream": "styles", "record": r} for r in models]
    messages.append(
        {"type": "SCHEMA", "stream": "products", "schema": SCHEMA, "key_properties": ["sku"]}
    )
    messages += [{"type": "RECORD", "stream": "products", "record": r} for r in products]
    messages.append({"type": "STATE", "value": {"bookmarks": {"done": True}}})
    return "".join(json.dumps(m) + "\n" for m in messages)


def test_models_from_their_own_stream(pim: Any, tmp_path: Path) -> None:
    models = [
        {"code": "JKT", "parent": None, "name": "Rain jacket", "color": None},
        {"code": "JKT_black", "parent": "JKT", "name": None, "color": "black"},
        {"code": "JKT_red", "parent": "JKT", "name": None, "color": "red"},
        {"code": "BAD", "parent": None, "name": "y" * 300, "color": None},
        {"code": "BAD_red", "parent": "BAD", "name": None, "color": "red"},
    ]
    products = [
        {"sku": "JKT-black-s", "style": "JKT_black", "size": "s", "qty": 1},
        {"sku": "JKT-red-m", "style": "JKT_red", "size": "m", "qty": 2},
        {"sku": "BAD-red-m", "style": "BAD_red", "size": "m", "qty": 3},
    ]
    cfg = config(pim, tmp_path, STREAMS_MAPPING)
    run = run_target(cfg, two_streams(models, products), tmp_path)
    assert run.returncode == 0, run.stderr
    assert pim.get_product_model("JKT_red")["parent"] == "JKT"
    assert data(pim.get_product_model("JKT"), "name") == "Rain jacket"
    product = pim.get_product("JKT-red-m")
    assert product["parent"] == "JKT_red"
    assert data(product, "color") == "red"
    assert data(product, "quantity") == 2
    assert pim.get_product_model("BAD") is None
    letters = {letter["identifier"]: letter for letter in run.dead_letters()}
    assert set(letters) == {"BAD", "BAD_red", "BAD-red-m"}
    assert letters["BAD"]["reason"] == "rejected_by_pim"
    assert letters["BAD-red-m"]["reason"] == "model_rejected"
    assert "model 'BAD" in letters["BAD-red-m"]["message"]
    report = run.report
    assert report["models"] == {"created": 3, "updated": 0, "unchanged": 0, "rejected": 2}
    assert (report["received"], report["created"], report["rejected"]) == (3, 2, 1)
    before = writes(pim.stats())
    again = run_target(cfg, two_streams(models, products), tmp_path)
    assert again.returncode == 0, again.stderr
    # Only the rejected root is tried again; its sub-model and product wait on it.
    assert writes(pim.stats()) - before == 1
    assert {letter["identifier"] for letter in again.dead_letters()} == set(letters)


def test_models_through_transient_faults(tmp_path: Path) -> None:
    with SandboxProcess(catalog=VARIANT_CATALOG, faults="429=0.2,500=0.1", seed=5) as pim:
        cfg = config(pim, tmp_path, max_retries=8)
        run = run_target(cfg, lines(rows(styles=3, colors=("black", "red", "white"))), tmp_path)
        assert run.returncode == 0, run.stderr
        assert run.report["retries"] > 0
        assert len(pim.all_products()) == 18
        assert len(pim.all_product_models()) == 12
        assert run.dead_letters() == []
        assert pim.stats()["values_dropped"] == 0


def test_bad_model_block_is_one_line_per_problem(pim: Any, tmp_path: Path) -> None:
    mapping = copy.deepcopy(MAPPING)
    mapping["products"]["model"] = {"code": "style", "colour": "color", "sub_model_code": {}}
    run = run_target(config(pim, tmp_path, mapping), lines(rows()), tmp_path)
    assert run.returncode == 1
    assert "products.model: unknown key(s) colour" in run.stderr
    assert "products.model.family_variant: required" in run.stderr
    assert "products.model.sub_model_code: set exactly one of 'field', 'value' or 'template'" in (
        run.stderr
    )
    assert writes(pim.stats()) == 0


def test_model_associations_from_their_own_stream(pim: Any, tmp_path: Path) -> None:
    """A `product_models:` mapping's associations go to /product-models once the model and
    the products it names (here one later in the input, in another stream) are confirmed."""
    mapping = copy.deepcopy(STREAMS_MAPPING)
    mapping["styles"]["product_models"]["associations"] = {
        "X_SELL": {"products": {"field": "related"}, "product_models": {"field": "models"}}
    }
    schema = copy.deepcopy(MODEL_SCHEMA)
    schema["properties"]["related"] = {"type": ["array", "null"], "items": {"type": "string"}}
    schema["properties"]["models"] = {"type": ["array", "null"], "items": {"type": "string"}}
    models = [
        {"code": "PANTS", "parent": None, "name": "Rain pants", "color": None},
        {"code": "JKT", "parent": None, "name": "Rain jacket", "color": None,
         "related": ["CAP-1"], "models": ["PANTS"]},
        {"code": "JKT_red", "parent": "JKT", "name": None, "color": "red"},
    ]  # fmt: skip
    products = [
        {"sku": "JKT-red-m", "style": "JKT_red", "size": "m", "qty": 2},
        {"sku": "CAP-1", "style": None, "size": "s", "qty": 1},
    ]
    text = two_streams(models, products).replace(json.dumps(MODEL_SCHEMA), json.dumps(schema), 1)
    cfg = config(pim, tmp_path, mapping)

    run = run_target(cfg, text, tmp_path)

    assert run.returncode == 0, run.stderr
    jacket = pim.get_product_model("JKT")
    assert jacket["associations"]["X_SELL"] == {
        "products": ["CAP-1"],
        "product_models": ["PANTS"],
        "groups": [],
    }
    assert pim.get_product_model("PANTS")["associations"]["X_SELL"]["products"] == []
    assert (run.report["associations_sent"], run.report["associations_failed"]) == (3, 0)
    before = writes(pim.stats())

    again = run_target(cfg, text, tmp_path)

    assert again.returncode == 0, again.stderr
    assert again.report["associations_unchanged"] == 3
    assert writes(pim.stats()) == before


def test_dry_run_previews_models_against_the_pim(pim: Any, tmp_path: Path) -> None:
    cfg = config(pim, tmp_path)
    assert run_target(cfg, lines(rows(styles=1)), tmp_path).returncode == 0
    changed = rows(styles=2)
    for record in changed:
        record["material"] = "linen"
    before = writes(pim.stats())
    dry = config(pim, tmp_path, dry_run=True, skip_unchanged=False)
    run = run_target(dry, lines(changed), tmp_path)
    assert run.returncode == 0, run.stderr
    assert writes(pim.stats()) == before
    shown = preview_rows(Path(dry["preview_path"]))
    models = {key: row["s"] for key, row in shown.items() if row["k"] == "product_model"}
    assert models == {
        "TEE0": "changed", "TEE0_black": "unchanged", "TEE0_red": "unchanged",
        "TEE1": "new", "TEE1_black": "new", "TEE1_red": "new",
    }  # fmt: skip
    assert shown["TEE0"]["d"] == [["material", "", "", "cotton", "linen"]]
    products = {key: row["s"] for key, row in shown.items() if row["k"] == "product"}
    assert products == {r["sku"]: "new" if r["style"] == "TEE1" else "unchanged" for r in changed}
