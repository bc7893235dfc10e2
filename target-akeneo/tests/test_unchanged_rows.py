"""Model rows found unchanged as they are held (unchanged_rows.py), in-process: the models
whose every row the PIM has as it is are set aside at settle and never planned; a model with
one changed row is planned whole, as before. Through the CLI: test_models.py."""

from __future__ import annotations

from typing import Any

from target_akeneo.cache import ConfirmedPayloads
from target_akeneo.deltas import delta
from target_akeneo.mapping import parse_mapping
from target_akeneo.models import FamilyVariant, ModelBuilder
from target_akeneo.unchanged_rows import UnchangedCheck

STREAM = "products"
VARIANT = FamilyVariant(
    "clothing_color_size",
    "clothing",
    (("color",), ("size",)),
    {"name": 0, "material": 0, "color": 1, "size": 2, "quantity": 2},
)


def builder() -> ModelBuilder:
    raw = {
        "identifier": "sku",
        "family": {"value": "clothing"},
        "model": {
            "code": "style",
            "family_variant": {"value": VARIANT.code},
            "sub_model_code": {"template": "{style}_{color}"},
        },
        "values": {"name": "name", "material": "material", "color": "color", "size": "size"},
    }
    spec = parse_mapping({STREAM: raw}, "mapping.yml")[STREAM].model
    assert spec is not None
    return ModelBuilder({STREAM: spec}, {STREAM: {VARIANT.code: VARIANT}})


def batch(quantity_of: dict[str, int] | None = None) -> dict[str, tuple[dict[str, Any], Any]]:
    """Two styles of two colours and two sizes, mapped as the sink gives them."""
    found = {}
    for style in ("TEE0", "TEE1"):
        for color in ("black", "red"):
            for size in ("s", "m"):
                sku = f"{style}-{color}-{size}"
                record = {"sku": sku, "style": style, "color": color, "size": size}
                given = {"name": style, "material": "cotton", "color": color, "size": size}
                given["quantity"] = (quantity_of or {}).get(sku, 5)
                values = {
                    key: [{"locale": None, "scope": None, "data": data}]
                    for key, data in given.items()
                }
                found[sku] = ({"identifier": sku, "family": "clothing", "values": values}, record)
    return found


def confirmed_first_load() -> UnchangedCheck:
    """Plan a first load (an earlier run) and confirm everything it would send, as the
    PIM's answers do."""
    models = builder()
    products = ConfirmedPayloads(None, skip_unchanged=True)
    confirmed = ConfirmedPayloads(None, skip_unchanged=True)
    models.collect(STREAM, batch())
    for plan in models.plans():
        for line in (*plan.roots, *plan.subs):
            confirmed.confirm(STREAM, line.code, delta(line.payload, None, whole=False).state)
            for row in line.children:
                state = delta(row.payload, None, whole=False).state
                products.confirm(STREAM, row.identifier, state)
    return UnchangedCheck(products, confirmed)


def planned(models: ModelBuilder) -> list[str]:
    return sorted(
        row.identifier
        for plan in models.plans()
        for line in (*plan.roots, *plan.subs)
        for row in line.children
    )


def test_unchanged_models_are_set_aside_unplanned() -> None:
    check = confirmed_first_load()
    models = builder()
    models.collect(STREAM, batch(), check)
    assert models.spill.set_aside() == [(STREAM, 6)]
    assert list(models.spill.set_aside_identifiers(STREAM)) == [list(batch())]  # as read
    assert planned(models) == []


def test_a_changed_row_has_its_whole_model_planned() -> None:
    check = confirmed_first_load()
    models = builder()
    models.collect(STREAM, batch({"TEE1-red-m": 7}), check)
    assert models.spill.set_aside() == [(STREAM, 3)]  # TEE0 and its sub-models
    assert planned(models) == sorted(sku for sku in batch() if sku.startswith("TEE1"))


def test_models_planned_earlier_in_the_run_are_not_set_aside() -> None:
    """Rows read after a settle are checked against what the run gave their models."""
    check = confirmed_first_load()
    models = builder()
    models.collect(STREAM, batch({"TEE1-red-m": 7}), check)
    assert models.spill.set_aside() == [(STREAM, 3)]
    assert len(planned(models)) == 4  # TEE1, planned and remembered
    models.collect(STREAM, batch(), check)
    assert models.spill.set_aside() == []  # TEE0 was set aside, TEE1 planned: both known
    assert planned(models) == sorted(batch())


def test_without_a_check_nothing_is_set_aside() -> None:
    confirmed_first_load()
    models = builder()
    models.collect(STREAM, batch())
    assert models.spill.set_aside() == []
    assert planned(models) == sorted(batch())
