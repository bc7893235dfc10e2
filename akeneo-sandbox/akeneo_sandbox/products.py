"""Product writes: Akeneo's updater (PATCH merge rules), validation, storage, line results."""

from __future__ import annotations

import copy
import json
import uuid as uuidlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from akeneo_sandbox.associations import (
    ModelExists,
    apply_associations,
    apply_quantified,
    no_product_models,
)
from akeneo_sandbox.catalog import Catalog, Doc, missing
from akeneo_sandbox.errors import (
    ApiError,
    expects,
    format_error,
    php_type,
    url_mismatch,
    validation_failed,
)
from akeneo_sandbox.media import MediaLookup, check_reference
from akeneo_sandbox.search import stored_datetime
from akeneo_sandbox.store import Store
from akeneo_sandbox.validation import ProductValidator, unique_text
from akeneo_sandbox.values import ValueFormat

if TYPE_CHECKING:
    from akeneo_sandbox.models import VariantCheck, VariantRules

FIELDS = frozenset(
    {
        "identifier",
        "uuid",
        "enabled",
        "family",
        "categories",
        "groups",
        "parent",
        "values",
        "associations",
        "quantified_associations",
    }
)
# Read-only fields a client may echo back from a GET; Akeneo ignores them on write.
IGNORED = frozenset(
    {"created", "updated", "_links", "metadata", "quality_scores", "completenesses"}
)
ANCHOR_CODE = "patch_products__code_"
ANCHOR_UUID = "patch_products_uuid__uuid_"
MAX_LINES = 100
MAX_LINE_CHARS = 1_000_000
INVALID_JSON = "Invalid json message received"


def new_product(identifier: str | None, uuid: str, now: str) -> Doc:
    return {
        "identifier": identifier,
        "uuid": uuid,
        "enabled": True,
        "family": None,
        "categories": [],
        "groups": [],
        "parent": None,
        "values": {},
        "created": now,
        "updated": now,
        "associations": {},
        "quantified_associations": {},
    }


def valid_uuid(text: str) -> str | None:
    """The lowercase canonical form of a UUID string, or None."""
    try:
        return str(uuidlib.UUID(text)) if len(text) == 36 else None
    except ValueError:
        return None


class Updater:
    """Applies a PATCH body to a product; raises Akeneo's format errors (422 with a doc link)."""

    def __init__(
        self,
        catalog: Catalog,
        anchor: str,
        media: MediaLookup | None = None,
        store: Store | None = None,
        model_exists: ModelExists | None = None,
    ) -> None:
        self.catalog = catalog
        self.anchor = anchor
        self.values = ValueFormat(anchor)
        self.media = media
        self.store = store
        self.model_exists = model_exists

    def fail(self, message: str) -> ApiError:
        return format_error(message, self.anchor)

    def apply(self, product: Doc, body: Doc) -> None:
        for key, value in body.items():
            if key in IGNORED or key in ("identifier", "uuid"):
                continue
            if key not in FIELDS:
                raise self.fail(f'Property "{key}" does not exist.')
            getattr(self, f"_set_{key}")(product, value)

    def _set_enabled(self, product: Doc, value: Any) -> None:
        if not isinstance(value, bool):
            raise self.fail(expects("enabled", "a boolean", value))
        product["enabled"] = value

    def _set_family(self, product: Doc, value: Any) -> None:
        if value is not None and not isinstance(value, str):
            raise self.fail(expects("family", "a string", value))
        if value and value not in self.catalog.families:
            raise self.fail(missing("family", "family", value))
        product["family"] = value or None

    def _codes(self, field: str, value: Any) -> list[str]:
        if not isinstance(value, list):
            raise self.fail(expects(field, "an array", value))
        for item in value:
            if not isinstance(item, str):
                raise self.fail(
                    f'Property "{field}" expects an array of strings as data, '
                    f'"{php_type(item)}" given.'
                )
        return list(dict.fromkeys(value))

    def _set_categories(self, product: Doc, value: Any) -> None:
        codes = self._codes("categories", value)
        for code in codes:
            if code not in self.catalog.categories:
                raise self.fail(missing("categories", "category", code))
        product["categories"] = codes

    def _set_groups(self, product: Doc, value: Any) -> None:
        codes = self._codes("groups", value)
        if codes:
            raise self.fail(missing("groups", "group", codes[0]))
        product["groups"] = codes

    def _set_associations(self, product: Doc, value: Any) -> None:
        assert self.store is not None, "associations need the store to find their targets"
        product["associations"] = apply_associations(
            product["associations"],
            value,
            self.catalog,
            self.store,
            by_uuid=self.anchor == ANCHOR_UUID,
            anchor=self.anchor,
            model_exists=self.model_exists or no_product_models,
        )

    def _set_quantified_associations(self, product: Doc, value: Any) -> None:
        assert self.store is not None, "associations need the store to find their targets"
        product["quantified_associations"] = apply_quantified(
            product["quantified_associations"],
            value,
            self.catalog,
            self.store,
            anchor=self.anchor,
            model_exists=self.model_exists or no_product_models,
        )

    def _set_values(self, product: Doc, value: Any) -> None:
        if not isinstance(value, dict):
            raise self.fail(expects("values", "an array", value))
        for code, entries in value.items():
            attribute = self.catalog.attributes.get(code)
            if attribute is None:
                raise self.fail(f"The {code} attribute does not exist in your PIM.")
            if not isinstance(entries, list):
                raise self.fail(expects(code, "an array", entries))
            for entry in entries:
                self._set_value(product, attribute, entry)

    def _set_value(self, product: Doc, attribute: Doc, entry: Any) -> None:
        code = attribute["code"]
        if not isinstance(entry, dict) or "data" not in entry:
            raise self.fail(f'Property "{code}" expects an array with the key "data".')
        extra = sorted(set(entry) - {"locale", "scope", "data"})
        if extra:
            raise self.fail(f'Property "{code}" does not expect the key "{extra[0]}".')
        locale, scope = entry.get("locale"), entry.get("scope")
        self._check_locale(attribute, locale)
        self._check_scope(attribute, scope)
        data = self.values.normalize(attribute, entry["data"])
        if self.media is not None:
            check_reference(attribute, data, self.media, self.anchor)
        current = product["values"].get(code, [])
        kept = [e for e in current if (e["locale"], e["scope"]) != (locale, scope)]
        if data is not None:
            kept.append({"locale": locale, "scope": scope, "data": data})
        if kept:
            product["values"][code] = kept
        else:
            product["values"].pop(code, None)

    def _check_locale(self, attribute: Doc, locale: Any) -> None:
        code = attribute["code"]
        if locale is not None and not isinstance(locale, str):
            raise self.fail(
                f'Property "{code}" expects a string as locale, "{php_type(locale)}" given.'
            )
        if attribute["localizable"] and locale is None:
            raise self.fail(f'Attribute "{code}" expects a locale, none given.')
        if not attribute["localizable"] and locale is not None:
            raise self.fail(f'Attribute "{code}" does not expect a locale, "{locale}" given.')
        available = attribute["available_locales"]
        bad_locale = locale not in self.catalog.active_locales() or (
            available and locale not in available
        )
        if locale is not None and bad_locale:
            raise self.fail(
                f'Attribute "{code}" expects an existing and activated locale, "{locale}" given.'
            )

    def _check_scope(self, attribute: Doc, scope: Any) -> None:
        code = attribute["code"]
        if scope is not None and not isinstance(scope, str):
            raise self.fail(
                f'Property "{code}" expects a string as scope, "{php_type(scope)}" given.'
            )
        if attribute["scopable"] and scope is None:
            raise self.fail(f'Attribute "{code}" expects a scope, none given.')
        if not attribute["scopable"] and scope is not None:
            raise self.fail(f'Attribute "{code}" does not expect a scope, "{scope}" given.')
        if scope is not None and scope not in self.catalog.channels:
            raise self.fail(f'Attribute "{code}" expects an existing scope, "{scope}" given.')


class ProductService:
    """Upserts through either route; `on_written` counts each accepted product write;
    `variants` handles `parent` (models.py)."""

    def __init__(
        self,
        store: Store,
        catalog: Callable[[], Catalog],
        clock: Callable[[], float],
        on_written: Callable[[], None],
        variants: VariantRules,
        media: MediaLookup | None = None,
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.clock = clock
        self.on_written = on_written
        self.variants = variants
        self.media = media

    def _updater(self, catalog: Catalog, anchor: str) -> Updater:
        return Updater(catalog, anchor, self.media, self.store, self.variants.models.exists)

    def now(self) -> str:
        return stored_datetime(datetime.fromtimestamp(self.clock(), UTC))

    def upsert_identifier(self, identifier: str, body: object, create_only: bool = False) -> int:
        """PATCH /products/{code}: 201 when created, 204 when updated."""
        if not isinstance(body, dict):
            raise ApiError(400, INVALID_JSON)
        given = body.get("identifier", identifier)
        if given != identifier:
            raise url_mismatch("identifier", given, identifier)
        existing = self.store.product_by_identifier(identifier)
        if existing is not None and create_only:
            raise validation_failed(
                [
                    {
                        "property": "identifier",
                        "message": "The same identifier is already set on another product",
                    }
                ]
            )
        product = self._start(existing, identifier, body.get("uuid"), ANCHOR_CODE)
        catalog = self.catalog()
        check = self.variants.prepare(product, body, ANCHOR_CODE, existing is None)
        self._updater(catalog, ANCHOR_CODE).apply(product, check.body)
        product["identifier"] = identifier
        # Akeneo 7 lists the identifier value first, as `values.<identifier attribute>`.
        code = catalog.identifier_attribute()
        others = {k: v for k, v in product["values"].items() if k != code}
        product["values"] = {code: [{"locale": None, "scope": None, "data": identifier}], **others}
        return self._finish(existing, product, catalog, check)

    def upsert_uuid(self, uuid: str, body: object, create_only: bool = False) -> int:
        """PATCH /products-uuid/{uuid}: the identifier is an ordinary value there."""
        canonical = valid_uuid(uuid)
        if canonical is None:
            raise format_error("This is not a valid UUID.", ANCHOR_UUID)
        if not isinstance(body, dict):
            raise ApiError(400, INVALID_JSON)
        if "identifier" in body:
            raise format_error('Property "identifier" does not exist.', ANCHOR_UUID)
        given = body.get("uuid", canonical)
        if not isinstance(given, str) or given.lower() != canonical:
            raise url_mismatch("uuid", given, canonical)
        existing = self.store.product_by_uuid(canonical)
        if existing is not None and create_only:
            raise validation_failed(
                [{"property": "uuid", "message": "The same uuid is already set on another product"}]
            )
        product = self._start(existing, None, canonical, ANCHOR_UUID)
        catalog = self.catalog()
        check = self.variants.prepare(product, body, ANCHOR_UUID, existing is None)
        self._updater(catalog, ANCHOR_UUID).apply(product, check.body)
        entries = product["values"].get(catalog.identifier_attribute(), [])
        product["identifier"] = entries[0]["data"] if entries else None
        return self._finish(existing, product, catalog, check)

    def _start(self, existing: Doc | None, identifier: str | None, uuid: Any, anchor: str) -> Doc:
        if existing is not None:
            return copy.deepcopy(existing)
        if uuid is None:
            return new_product(identifier, str(uuidlib.uuid4()), self.now())
        canonical = valid_uuid(uuid) if isinstance(uuid, str) else None
        if canonical is None:
            raise format_error("This is not a valid UUID.", anchor)
        if self.store.product_by_uuid(canonical) is not None:
            raise validation_failed(
                [{"property": "uuid", "message": "The same uuid is already set on another product"}]
            )
        return new_product(identifier, canonical, self.now())

    def _finish(
        self, existing: Doc | None, product: Doc, catalog: Catalog, check: VariantCheck
    ) -> int:
        validator = ProductValidator(catalog, self.store.unique_owner, self.media)
        violations = validator.violations(product)
        violations.extend(check.violations(product))
        identifier = product["identifier"]
        if identifier is not None:
            owner = self.store.uuid_of_identifier(identifier)
            if owner is not None and owner != product["uuid"]:
                message = "The same identifier is already set on another product"
                violations.insert(0, {"property": "identifier", "message": message})
        if violations:
            raise validation_failed(violations)
        if existing is None or _content(existing) != _content(product):
            product["updated"] = self.now()
            self.store.save_product(product, _unique_values(product, catalog))
        self.on_written()
        check.accepted()
        return 201 if existing is None else 204

    def upsert_lines(self, body: bytes, key: str) -> list[Doc]:
        """Collection PATCH: one result per line, in order; 413 over 100 lines."""
        text = body.decode("utf-8", errors="replace")
        lines = text.split("\n")
        if lines and lines[-1].strip() == "" and len(lines) > 1:
            lines.pop()
        if len(lines) > MAX_LINES:
            raise ApiError(413, "Too many resources to process, 100 is the maximum allowed.")
        with self.store.transaction():
            return [
                self._line(number, line.rstrip("\r"), key) for number, line in enumerate(lines, 1)
            ]

    def _line(self, number: int, line: str, key: str) -> Doc:
        if len(line) > MAX_LINE_CHARS:
            return {"line": number, "status_code": 413, "message": "Line is too long."}
        try:
            item = json.loads(line)
        except ValueError:
            item = None
        if not isinstance(item, dict):
            return {"line": number, "status_code": 400, "message": INVALID_JSON}
        ident = item.get(key)
        if ident is not None and not isinstance(ident, str):
            return {"line": number, "status_code": 422, "message": f"{key} must be of type string."}
        if ident is None or not ident.strip():
            missing = "Identifier is missing." if key == "identifier" else "Uuid is missing."
            return {"line": number, "status_code": 422, "message": missing}
        shown = ident.lower() if key == "uuid" else ident
        result: Doc = {"line": number, key: shown}
        try:
            if key == "identifier":
                status = self.upsert_identifier(ident, item)
            else:
                status = self.upsert_uuid(ident, item)
        except ApiError as error:
            result["status_code"] = error.status
            result.update((k, v) for k, v in error.body().items() if k != "code")
            return result
        result["status_code"] = status
        return result


def _content(product: Doc) -> Doc:
    return {k: v for k, v in product.items() if k != "updated"}


def _unique_values(product: Doc, catalog: Catalog) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for code, entries in product["values"].items():
        attribute = catalog.attributes.get(code)
        if attribute and attribute["unique"] and attribute["type"] != "pim_catalog_identifier":
            pairs.extend((code, unique_text(e["data"])) for e in entries)
    return pairs
