"""Product models and variant products: storage, Akeneo's parent, family-variant and axis rules,
and the values an entity shows from its ancestors.

Akeneo's attribute filter runs before its updater: a value of an unknown attribute fails, but a
value of an attribute that belongs to another level is dropped without an error (201/204). Only
values already stored on the entity (e.g. a simple product moved under a model) are reported.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from akeneo_sandbox.catalog import Catalog, Doc
from akeneo_sandbox.errors import (
    FORMAT_HINT,
    ApiError,
    expects,
    format_error,
    url_mismatch,
    validation_failed,
)
from akeneo_sandbox.media import MediaLookup
from akeneo_sandbox.products import ANCHOR_UUID, IGNORED, INVALID_JSON, Updater
from akeneo_sandbox.store import Query, Store
from akeneo_sandbox.validation import ProductValidator, Violation, identifier_violations
from akeneo_sandbox.variants import attribute_set, axes, level_count

_SCHEMA = """
CREATE TABLE IF NOT EXISTS product_models (
    code TEXT PRIMARY KEY,
    parent TEXT,
    family TEXT,
    family_variant TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS product_models_parent ON product_models(parent);
CREATE INDEX IF NOT EXISTS product_models_updated ON product_models(updated);
CREATE INDEX IF NOT EXISTS products_parent ON products(json_extract(doc, '$.parent'));
"""
MODEL_FIELDS = frozenset(
    {"code", "family_variant", "parent", "categories", "values", "associations"}
    | {"quantified_associations"}
)
# `family` is shown by GET and follows from the family variant; Akeneo's reaction to it in a
# write is not documented (FACTS-MODELS-MEDIA "Not verified"), so it is ignored like `updated`.
MODEL_IGNORED = IGNORED | {"family"}
UPDATER_FIELDS = ("categories", "values", "associations", "quantified_associations")
ANCHOR_PATCH = "patch_product_models__code_"
ANCHOR_POST = "post_product_model"
PARENT_EXPECTED = 'Property "parent" expects a valid parent code. '
CODE_NOT_STRING = "The code field requires a string." + FORMAT_HINT


def new_model(code: str, now: str) -> Doc:
    return {
        "code": code,
        "family": None,
        "family_variant": None,
        "parent": None,
        "categories": [],
        "values": {},
        "created": now,
        "updated": now,
        "associations": {},
        "quantified_associations": {},
    }


class ModelStore:
    """The product_models table, beside the products table on the same connection."""

    def __init__(self, store: Store) -> None:
        self.store = store
        with store.lock:
            store.connection.executescript(_SCHEMA)

    def _docs(self, sql: str, params: Sequence[Any]) -> list[Doc]:
        with self.store.lock:
            rows = self.store.connection.execute(sql, params).fetchall()
        return [json.loads(row[0]) for row in rows]

    def get(self, code: str) -> Doc | None:
        found = self._docs("SELECT doc FROM product_models WHERE code = ?", (code,))
        return found[0] if found else None

    def exists(self, code: str) -> bool:
        """Whether a product model has this code (associations and uploads ask)."""
        return self.get(code) is not None

    def save(self, doc: Doc) -> None:
        with self.store.lock:
            self.store.connection.execute(
                "INSERT INTO product_models VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(code) DO "
                "UPDATE SET parent = excluded.parent, family = excluded.family, "
                "family_variant = excluded.family_variant, updated = excluded.updated, "
                "doc = excluded.doc",
                (
                    doc["code"],
                    doc["parent"],
                    doc["family"],
                    doc["family_variant"],
                    doc["created"],
                    doc["updated"],
                    json.dumps(doc, ensure_ascii=False),
                ),
            )

    def models_under(self, parent: str) -> list[Doc]:
        return self._docs("SELECT doc FROM product_models WHERE parent = ?", (parent,))

    def products_under(self, parent: str) -> list[Doc]:
        return self._docs(
            "SELECT doc FROM products WHERE json_extract(doc, '$.parent') = ?", (parent,)
        )

    def count(self, query: Query | None = None) -> int:
        where, params = (query.where, query.params) if query else ("1", ())
        with self.store.lock:
            sql = f"SELECT COUNT(*) FROM product_models WHERE {where}"  # noqa: S608
            return int(self.store.connection.execute(sql, params).fetchone()[0])

    def list(
        self, query: Query, limit: int, offset: int = 0, after: str | None = None
    ) -> list[Doc]:
        """Models matching `query` by code, after a code or an offset (search.py builds SQL)."""
        where, params = query.where, query.params
        if after is not None:
            where, params = f"({where}) AND code > ?", (*params, after)
        sql = f"SELECT doc FROM product_models WHERE {where} ORDER BY code LIMIT ? OFFSET ?"  # noqa: S608
        return self._docs(sql, (*params, limit, offset))

    def delete(self, code: str) -> None:
        """DELETE /product-models/{code} also deletes its sub models and variant products."""
        with self.store.transaction():
            self._delete(code)

    def _delete(self, code: str) -> None:
        for sub in self.models_under(code):
            self._delete(sub["code"])
        for product in self.products_under(code):
            self.store.delete_product(product["uuid"])
        with self.store.lock:
            self.store.connection.execute("DELETE FROM product_models WHERE code = ?", (code,))

    def clear(self) -> None:
        with self.store.transaction():
            self.store.connection.execute("DELETE FROM product_models")

    def with_ancestors(self, doc: Doc) -> Doc:
        """As GET shows a sub model or variant: its own values, then those of each ancestor,
        and the categories of all of them."""
        parent_code = doc.get("parent")
        if not parent_code:
            return doc
        values = dict(doc["values"])
        categories = list(doc["categories"])
        while parent_code:
            parent = self.get(parent_code)
            if parent is None:
                break
            for code, entries in parent["values"].items():
                values.setdefault(code, entries)
            categories.extend(c for c in parent["categories"] if c not in categories)
            parent_code = parent["parent"]
        return {**doc, "values": values, "categories": categories}


def keep_level(
    values: Any, allowed: set[str], catalog: Catalog, anchor: str, of_model: bool
) -> tuple[Any, int]:
    """Akeneo's attribute filter on the sent values (see the module docstring); also returns
    how many attributes it dropped."""
    if not isinstance(values, dict):
        return values, 0
    kept: Doc = {}
    for code, entries in values.items():
        if code not in catalog.attributes:
            if of_model:
                raise format_error(f'Property "{code}" does not exist.', anchor)
            kept[code] = entries  # the product updater reports it with its own message
        elif code in allowed:
            kept[code] = entries
    return kept, len(values) - len(kept)


def _axis_data(entity: Doc, code: str) -> Any:
    entries = entity["values"].get(code) or []
    return entries[0]["data"] if entries else None


def _axis_key(attribute: Doc, data: Any) -> Any:
    if attribute["type"] == "pim_catalog_simpleselect" and isinstance(data, str):
        return data.lower()
    if isinstance(data, dict):
        try:
            return (Decimal(str(data.get("amount"))).normalize(), data.get("unit"))
        except InvalidOperation:
            return (str(data.get("amount")), data.get("unit"))
    return data


def _axis_text(attribute: Doc, data: Any) -> str:
    """The value as Akeneo prints it: `[option]`, `1` for true. The forms of false and of a
    metric are not in any source read (unverified): `0` and `amount unit` here."""
    if attribute["type"] == "pim_catalog_boolean":
        return "1" if data else "0"
    if isinstance(data, dict):
        return f"{data.get('amount')} {data.get('unit')}"
    return f"[{data}]"


def axis_violations(
    entity: Doc,
    codes: list[str],
    catalog: Catalog,
    what: str,
    name: Callable[[Doc], str],
    siblings: list[Doc],
) -> list[Violation]:
    """Axis values are required, and no sibling may have the same combination."""
    found: list[Violation] = []
    for code in codes:
        if _axis_data(entity, code) in (None, "", []):
            message = (
                f'Attribute "{code}" cannot be empty, as it is defined as an axis for this entity'
            )
            found.append({"property": "attribute", "message": message})
    if found or not codes:
        return found
    attributes = [catalog.attributes[code] for code in codes]

    def key(doc: Doc) -> tuple[Any, ...]:
        return tuple(_axis_key(a, _axis_data(doc, a["code"])) for a in attributes)

    mine = key(entity)
    for sibling in siblings:
        if _identity(sibling) != _identity(entity) and key(sibling) == mine:
            shown = ",".join(_axis_text(a, _axis_data(entity, a["code"])) for a in attributes)
            message = (
                f'Cannot set value "{shown}" for the attribute axis "{",".join(codes)}" on {what} '
                f'"{name(entity)}", as the {what} "{name(sibling)}" already has this value'
            )
            found.append({"property": "attribute", "message": message})
            break
    return found


def _identity(entity: Doc) -> str:
    """Products are told apart by uuid (the identifier may be absent), models by code."""
    return str(entity.get("uuid") or entity["code"])


def _outside_set(entity: Doc, allowed: set[str]) -> list[Violation]:
    return [
        {
            "property": "attribute",
            "message": f'Cannot set the property "{code}" to this entity as it is not in the '
            "attribute set",
        }
        for code in entity["values"]
        if code not in allowed
    ]


def _value_violations(
    catalog: Catalog, entity: Doc, media: MediaLookup | None = None
) -> list[Violation]:
    """Data rules of each value (length, options, units, media files...), shared with
    products."""
    holder = {"identifier": None, "uuid": "", "values": entity["values"]}
    return ProductValidator(catalog, lambda attribute, value: None, media).violations(holder)


class ModelService:
    """Creates and updates product models; `on_written` counts each accepted write,
    `on_dropped` the values of other levels it dropped."""

    def __init__(
        self,
        models: ModelStore,
        catalog: Callable[[], Catalog],
        now: Callable[[], str],
        on_written: Callable[[], None],
        on_dropped: Callable[[int], None],
        media: MediaLookup | None = None,
    ) -> None:
        self.models = models
        self.catalog = catalog
        self.now = now
        self.on_written = on_written
        self.on_dropped = on_dropped
        self.media = media

    def upsert(self, code: str, body: object, create_only: bool = False) -> int:
        """PATCH /product-models/{code} (201 created, 204 updated), or POST when `create_only`."""
        anchor = ANCHOR_POST if create_only else ANCHOR_PATCH
        if not isinstance(body, dict):
            raise ApiError(400, INVALID_JSON)
        given = body.get("code", code)
        if not isinstance(given, str):
            raise ApiError(422, CODE_NOT_STRING)
        if given != code:
            raise url_mismatch("code", given, code)
        for key in body:
            if key not in MODEL_FIELDS and key not in MODEL_IGNORED:
                raise format_error(f'Property "{key}" does not exist.', anchor)
        existing = self.models.get(code)
        if existing is not None and create_only:
            message = "The same code is already set on another product model."
            raise validation_failed([{"property": "code", "message": message}])
        catalog = self.catalog()
        model = copy.deepcopy(existing) if existing is not None else new_model(code, self.now())
        violations = self._place(model, body, existing, catalog, anchor)
        variant = catalog.items["family_variants"].get(model["family_variant"] or "")
        level = 0 if model["parent"] is None else 1
        changes = {k: body[k] for k in UPDATER_FIELDS if k in body}
        dropped = 0
        if variant is not None and "values" in changes:
            allowed = attribute_set(variant, level, catalog)
            changes["values"], dropped = keep_level(
                changes["values"], allowed, catalog, anchor, True
            )
        Updater(catalog, anchor, self.media, self.models.store, self.models.exists).apply(
            model, changes
        )
        violations = (
            _code_violations(code) + violations + _value_violations(catalog, model, self.media)
        )
        if variant is not None and level == 1 and level_count(variant) > 1:
            siblings = self.models.models_under(model["parent"])
            violations += axis_violations(
                model, axes(variant, 1), catalog, "product model", _code, siblings
            )
        if violations:
            raise validation_failed(violations)
        if existing is None or _changed(existing, model):
            model["updated"] = self.now()
            self.models.save(model)
        self.on_written()
        self.on_dropped(dropped)
        return 201 if existing is None else 204

    def _place(
        self, model: Doc, body: Doc, existing: Doc | None, catalog: Catalog, anchor: str
    ) -> list[Violation]:
        """Family variant and parent, with the updater's errors (raised) and the validator's
        (returned), in Akeneo's order."""
        given_variant = None
        if "family_variant" in body:
            given_variant = body["family_variant"]
            if given_variant is None or given_variant == "":
                raise format_error(
                    'Property "family_variant" does not expect an empty value.', anchor
                )
            if not isinstance(given_variant, str):
                raise format_error(expects("family_variant", "a string", given_variant), anchor)
            if existing is not None and given_variant != existing["family_variant"]:
                raise format_error(
                    f'Property "family_variant" cannot be modified, "{given_variant}" given.',
                    anchor,
                )
            if given_variant not in catalog.items["family_variants"]:
                raise format_error(
                    'Property "family_variant" expects a valid family variant code. '
                    f'The family variant does not exist, "{given_variant}" given.',
                    anchor,
                )
            model["family_variant"] = given_variant
        if "parent" in body:
            self._set_parent(model, body["parent"], existing, given_variant, anchor)
        violations: list[Violation] = []
        variant = catalog.items["family_variants"].get(model["family_variant"] or "")
        if variant is None:
            message = "The product model family variant must not be empty."
            violations.append({"property": "family_variant", "message": message})
            return violations
        model["family"] = variant["family"]
        if model["parent"] is not None and level_count(variant) < 2:
            message = f'The product model "{model["code"]}" cannot have a parent'
            violations.append({"property": "parent", "message": message})
        return violations

    def _set_parent(
        self, model: Doc, value: Any, existing: Doc | None, given_variant: str | None, anchor: str
    ) -> None:
        if value is not None and not isinstance(value, str):
            raise format_error(expects("parent", "a string", value), anchor)
        current = existing["parent"] if existing is not None else None
        if not value:
            if current is not None:
                raise format_error('Property "parent" cannot be modified, "NULL" given.', anchor)
            return
        if existing is not None and current is None:
            raise format_error(f'Property "parent" cannot be modified, "{value}" given.', anchor)
        parent = self.models.get(value)
        if parent is None:
            raise format_error(
                PARENT_EXPECTED + f'The product model does not exist, "{value}" given.', anchor
            )
        if parent["parent"] is not None:
            raise format_error(
                PARENT_EXPECTED
                + f'The new parent of the product model must be a root product model, "{value}" '
                "given.",
                anchor,
            )
        if existing is not None and parent["family_variant"] != existing["family_variant"]:
            # Wording from ProductModelUpdater (FACTS-MODELS-MEDIA §1.5, not asserted by a test).
            raise format_error(
                PARENT_EXPECTED
                + "The new parent of the product model must be of the same family variant, "
                f'"{value}" given.',
                anchor,
            )
        if given_variant is not None and given_variant != parent["family_variant"]:
            raise format_error(
                f'The parent is not a product model of the family variant "{given_variant}" but '
                f'belongs to the family "{parent["family_variant"]}".',
                anchor,
            )
        model["parent"] = value
        model["family_variant"] = parent["family_variant"]


def _code(doc: Doc) -> str:
    return str(doc["code"])


def _changed(before: Doc, after: Doc) -> bool:
    return {**before, "updated": None} != {**after, "updated": None}


def _code_violations(code: str) -> list[Violation]:
    """The identifier's format rules. Current Akeneo words the first one "...or leading/trailing
    space" (TRANS); the sandbox keeps one wording for both, the older one of its identifiers."""
    if not code.strip():
        return [{"property": "code", "message": "The product model code must not be empty."}]
    return [{**v, "property": "code"} for v in identifier_violations(code)]


class VariantCheck:
    """A product write's parent, resolved before its values are applied and checked after."""

    def __init__(
        self,
        rules: VariantRules,
        body: Doc,
        anchor: str,
        parent: Doc | None = None,
        pending: list[Violation] | None = None,
        dropped: int = 0,
    ) -> None:
        self.rules = rules
        self.body = body
        self.anchor = anchor
        self.parent = parent
        self.pending = pending or []
        self.dropped = dropped

    def accepted(self) -> None:
        """The write was saved: count the values of other levels it dropped."""
        self.rules.on_dropped(self.dropped)

    def violations(self, product: Doc) -> list[Violation]:
        if self.parent is None:
            return list(self.pending)
        catalog = self.rules.catalog()
        variant = catalog.items["family_variants"].get(self.parent["family_variant"])
        if variant is None:
            return list(self.pending)
        level = (0 if self.parent["parent"] is None else 1) + 1
        name = _uuid if self.anchor == ANCHOR_UUID else _identifier
        siblings = self.rules.models.products_under(self.parent["code"])
        found = list(self.pending)
        found += axis_violations(
            product, axes(variant, level), catalog, "variant product", name, siblings
        )
        if level != level_count(variant):
            message = (
                f'The variant product cannot have product model "{self.parent["code"]}" as '
                "parent, (this product model can only have other product models as children)"
            )
            found.append({"property": "parent", "message": message})
        found += _outside_set(product, attribute_set(variant, level, catalog))
        return found


def _uuid(doc: Doc) -> str:
    return str(doc["uuid"])


def _identifier(doc: Doc) -> str:
    return str(doc["identifier"])


class VariantRules:
    """The product side: `parent`, the family taken from it, and the level of the values."""

    def __init__(
        self,
        models: ModelStore,
        catalog: Callable[[], Catalog],
        on_dropped: Callable[[int], None],
    ) -> None:
        self.models = models
        self.catalog = catalog
        self.on_dropped = on_dropped

    def prepare(self, product: Doc, body: Doc, anchor: str, created: bool) -> VariantCheck:
        """Resolve `parent` and `family` of a product PATCH; the returned body holds the rest."""
        body = dict(body)
        if "parent" in body:
            value = body.pop("parent")
            if value is not None and not isinstance(value, str):
                raise format_error(expects("parent", "a string", value), anchor)
            if value and self.models.get(value) is None:
                raise format_error(
                    PARENT_EXPECTED + f'The parent product model does not exist, "{value}" given.',
                    anchor,
                )
            if not value and product["parent"]:
                # Variant to simple keeps the values and categories it showed (Akeneo 6.0+).
                shown = self.models.with_ancestors(product)
                product["values"], product["categories"] = shown["values"], shown["categories"]
            product["parent"] = value or None
        parent = self.models.get(product["parent"]) if product["parent"] else None
        if parent is None:
            return VariantCheck(self, body, anchor)
        pending: list[Violation] = []
        if "family" in body:
            family = body.pop("family")
            if family is not None and not isinstance(family, str):
                raise format_error(expects("family", "a string", family), anchor)
            pending += _family_violations(product, family, parent, created)
        product["family"] = parent["family"]
        catalog = self.catalog()
        variant = catalog.items["family_variants"].get(parent["family_variant"])
        dropped = 0
        if variant is not None and "values" in body:
            level = (0 if parent["parent"] is None else 1) + 1
            allowed = attribute_set(variant, level, catalog)
            body["values"], dropped = keep_level(body["values"], allowed, catalog, anchor, False)
        return VariantCheck(self, body, anchor, parent, pending, dropped)


def _family_violations(
    product: Doc, family: str | None, parent: Doc, created: bool
) -> list[Violation]:
    identifier = product["identifier"]
    if not family:
        message = (
            f'The family cannot be "null" because your product with the {identifier} '
            "identifier is a variant product."
            if created
            else f'The family can\'t be "null" because your product with the identifier '
            f'"{identifier}" is a variant product.'
        )
        return [{"property": "family", "message": message}]
    if family != parent["family"]:
        message = "The variant product family must be the same than its parent"
        return [{"property": "family", "message": message}]
    return []
