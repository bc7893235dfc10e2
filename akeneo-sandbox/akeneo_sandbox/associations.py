"""Associations and quantified associations: Akeneo's merge, format and validation rules.

Products are stored by uuid and shown by identifier on `/products`, by uuid on
`/products-uuid`, as Akeneo does. The functions take the associations of a PATCH body and the
store, so product models can use them too (`model_exists` tells which product models exist).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from akeneo_sandbox.catalog import Catalog, Doc
from akeneo_sandbox.errors import ApiError, expects, format_error, php_type, validation_failed
from akeneo_sandbox.store import Store

LINKS = ("products", "product_models", "groups")
QUANTIFIED_LINKS = ("products", "product_models")
MAX_QUANTIFIED = 100
MIN_QUANTITY, MAX_QUANTITY = 1, 2147483647
QA = "quantified_associations"

ModelExists = Callable[[str], bool]


def no_product_models(code: str) -> bool:
    """Whether a product model exists, while the sandbox stores none (uploads and associations
    ask this one lookup)."""
    return False


def product_uuid(store: Store, key: str, by_uuid: bool) -> str | None:
    """The uuid of the product named by an identifier, or by a uuid on the uuid routes."""
    if by_uuid:
        doc = store.product_by_uuid(key.lower())
        return None if doc is None else str(doc["uuid"])
    return store.uuid_of_identifier(key)


def _strings(value: Any, fail: Callable[[str], ApiError]) -> list[str]:
    if not isinstance(value, list):
        raise fail(expects("associations", "an array", value))
    for item in value:
        if not isinstance(item, str):
            raise fail(
                'Property "associations" expects an array of strings as data, '
                f'"{php_type(item)}" given.'
            )
    return list(dict.fromkeys(value))


def apply_associations(
    current: Doc,
    value: Any,
    catalog: Catalog,
    store: Store,
    *,
    by_uuid: bool,
    anchor: str,
    model_exists: ModelExists = no_product_models,
) -> Doc:
    """`current` updated by a PATCH's `associations`: only the types and the lists sent are
    replaced. Unknown types and targets are updater errors (422 with a documentation link)."""

    def fail(message: str) -> ApiError:
        return format_error(message, anchor)

    if not isinstance(value, dict):
        raise fail(expects("associations", "an array", value))
    merged = copy.deepcopy(current)
    for kind, targets in value.items():
        known = catalog.association_types.get(kind)
        if known is None or known["is_quantified"]:
            raise fail(
                'Property "associations" expects a valid association type code. The association '
                f'type does not exist or is quantified, "{kind}" given.'
            )
        if not isinstance(targets, dict):
            raise fail(expects("associations", "an array", targets))
        links = merged.setdefault(kind, {"products": [], "product_models": [], "groups": []})
        for field, codes in targets.items():
            if field not in LINKS:
                raise fail(f'Property "associations" does not expect the key "{field}".')
            links[field] = _targets(
                field, _strings(codes, fail), store, by_uuid, model_exists, fail
            )
    return merged


def _targets(
    field: str,
    codes: list[str],
    store: Store,
    by_uuid: bool,
    model_exists: ModelExists,
    fail: Callable[[str], ApiError],
) -> list[str]:
    if field == "products":
        uuids = []
        for code in codes:
            uuid = product_uuid(store, code, by_uuid)
            if uuid is None:
                what = "uuid" if by_uuid else "identifier"
                raise fail(
                    f'Property "associations" expects a valid product {what}. '
                    f'The product does not exist, "{code}" given.'
                )
            uuids.append(uuid)
        return uuids
    if field == "product_models":
        for code in codes:
            if not model_exists(code):
                raise fail(
                    'Property "associations" expects a valid product model identifier. '
                    f'The product model does not exist, "{code}" given.'
                )
        return codes
    if codes:
        raise fail(
            'Property "associations" expects a valid group code. '
            f'The group does not exist, "{codes[0]}" given.'
        )
    return codes


def apply_quantified(
    current: Doc,
    value: Any,
    catalog: Catalog,
    store: Store,
    *,
    anchor: str,
    model_exists: ModelExists = no_product_models,
) -> Doc:
    """`current` updated by a PATCH's `quantified_associations`, after Akeneo's structure
    check (updater errors) and its validator (`Validation failed.`, camelCase paths)."""
    incoming = _quantified_structure(value, anchor)
    merged = copy.deepcopy(current)
    violations: list[dict[str, Any]] = []
    for kind, targets in incoming.items():
        path = f"quantifiedAssociations.{kind}"
        known = catalog.association_types.get(kind)
        if known is None:
            message = (
                "This association type doesn't exist. "
                "Please make sure it hasn't been deleted in the meantime."
            )
            violations.append({"property": path, "message": message})
        elif not known["is_quantified"]:
            message = (
                f'"{kind}" can’t be used for associations with quantities. Please, choose a '
                'different association type with quantities or use the "associations" property.'
            )
            violations.append({"property": path, "message": message})
        for field in targets:
            if field not in QUANTIFIED_LINKS:
                message = (
                    f'The link type "{field}" doesn\'t exist. '
                    "You can only associate products or product models."
                )
                violations.append({"property": path, "message": message})
        links = merged.setdefault(kind, {"products": [], "product_models": []})
        for field in QUANTIFIED_LINKS:
            if field in targets:
                links[field] = _quantified_links(
                    f"{path}.{field}", field, targets[field], store, model_exists, violations
                )
        total = len(links["products"]) + len(links["product_models"])
        if total > MAX_QUANTIFIED:
            message = (
                f"You've reached the limit of {MAX_QUANTIFIED} associations. "
                "Please, delete some existing associations before adding new ones."
            )
            violations.append({"property": path, "message": message})
    if violations:
        raise validation_failed(violations)
    return merged


def _quantified_links(
    path: str,
    field: str,
    links: list[Doc],
    store: Store,
    model_exists: ModelExists,
    violations: list[dict[str, Any]],
) -> list[Doc]:
    kept: list[Doc] = []
    missing: list[str] = []
    for index, link in enumerate(links):
        quantity = link["quantity"]
        if not MIN_QUANTITY <= quantity <= MAX_QUANTITY:
            message = (
                f'"{quantity}" is an invalid quantity. '
                f"Please, write a value between {MIN_QUANTITY} and {MAX_QUANTITY}."
            )
            violations.append({"property": f"{path}[{index}].quantity", "message": message})
        if field == "products":
            named_by_uuid = link.get("uuid") is not None
            key = link["uuid"] if named_by_uuid else link["identifier"]
            uuid = product_uuid(store, key, named_by_uuid)
            if uuid is None:
                missing.append(key)
            kept.append({"uuid": uuid, "quantity": quantity})
        else:
            if not model_exists(link["identifier"]):
                missing.append(link["identifier"])
            kept.append({"identifier": link["identifier"], "quantity": quantity})
    if missing:
        what = "products" if field == "products" else "product models"
        message = (
            f"The following {what} don't exist: {', '.join(missing)}. "
            f"Please make sure the {what} haven't been deleted in the meantime."
        )
        violations.append({"property": path, "message": message})
    return kept


def _quantified_structure(value: Any, anchor: str) -> dict[str, Doc]:
    """Akeneo's QuantifiedAssociationsStructureValidator; JSON arrays are PHP arrays with
    integer keys, so only an empty one passes where an object is expected."""

    def fail(reason: str) -> ApiError:
        return format_error(f'Property "{QA}" expects an array with valid data, {reason}.', anchor)

    if value == []:
        return {}
    if isinstance(value, list):
        raise fail("association type code should be a string")
    if not isinstance(value, dict):
        raise format_error(expects(QA, "an array", value), anchor)
    for kind, targets in value.items():
        if targets == []:
            continue
        if isinstance(targets, list):
            raise fail(f'entity type in "{kind}" should be a string')
        if not isinstance(targets, dict):
            raise fail(f'"{kind}" should contain an array')
        for field, links in targets.items():
            if not isinstance(links, list):
                raise fail(f'"{kind}[{field}]" should contain an array')
            for link in links:
                _check_link(field, link, fail)
    return {k: (v if isinstance(v, dict) else {}) for k, v in value.items()}


def _check_link(field: str, link: Any, fail: Callable[[str], ApiError]) -> None:
    link = link if isinstance(link, dict) else {}
    keys = ("identifier", "uuid") if field == "products" else ("identifier",)
    present = [k for k in keys if link.get(k) is not None]
    if not present:
        if len(keys) == 2:
            raise fail(
                'a quantified association should contain one of these keys: "identifier" or "uuid"'
            )
        raise fail('a quantified association should contain the key "identifier"')
    if link.get("quantity") is None:
        raise fail('a quantified association should contain the key "quantity"')
    if not isinstance(link[present[0]], str):
        raise fail(f"a quantified association should contain a valid {present[0]}")
    quantity = link["quantity"]
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise fail("a quantified association should contain a valid quantity")


def presented(doc: Doc, catalog: Catalog, store: Store, by_uuid: bool) -> Doc:
    """`associations` and `quantified_associations` as GET shows them on the given routes:
    every non-quantified type of the catalog is listed, with empty lists when unused."""
    names: dict[str, str | None] = {}

    def name(uuid: str) -> str | None:
        if by_uuid:
            return uuid
        if uuid not in names:
            found = store.product_by_uuid(uuid)
            names[uuid] = None if found is None else found["identifier"]
        return names[uuid]

    associations: Doc = {
        code: {"products": [], "product_models": [], "groups": []}
        for code, kind in catalog.association_types.items()
        if not kind["is_quantified"]
    }
    for kind, links in doc["associations"].items():
        associations[kind] = {**links, "products": [name(u) for u in links["products"]]}
    key = "uuid" if by_uuid else "identifier"
    quantified = {
        kind: {
            "products": [
                {key: name(link["uuid"]), "quantity": link["quantity"]}
                for link in links["products"]
            ],
            "product_models": links["product_models"],
        }
        for kind, links in doc[QA].items()
    }
    return {"associations": associations, QA: quantified}
