"""What the sandbox browser shows, read from the stores: grid pages, an entity's values with
where each comes from, its family tree, categories and associations. No HTML here.

The grid never loads the whole PIM: it counts and reads one page with LIMIT/OFFSET, product
models first (by code), then products (by identifier).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from akeneo_sandbox.catalog import Catalog, Doc
from akeneo_sandbox.search import all_of, product_model_query, product_query, text_query
from akeneo_sandbox.state import Sandbox
from akeneo_sandbox.store import Query

Kind = Literal["all", "products", "models"]
KINDS: tuple[Kind, ...] = ("all", "products", "models")
IMAGE = "pim_catalog_image"


@dataclass(frozen=True)
class Row:
    """One grid line: a product (`key` = uuid) or a product model (`key` = code)."""

    is_model: bool
    key: str
    name: str
    family: str | None
    label: str | None
    image: str | None
    enabled: bool | None
    parent: str | None
    updated: str


@dataclass(frozen=True)
class Grid:
    rows: list[Row]
    matching_models: int
    matching_products: int
    total_models: int
    total_products: int

    @property
    def matching(self) -> int:
        return self.matching_models + self.matching_products


@dataclass(frozen=True)
class Value:
    """One stored value; `source` is the product model it is inherited from, else None."""

    attribute: str
    locale: str | None
    scope: str | None
    data: Any
    source: str | None


@dataclass
class Node:
    """A product model with its sub models and variant products, for the family tree."""

    model: Doc
    models: list[Node] = field(default_factory=list)
    products: list[Doc] = field(default_factory=list)


def pick(entries: list[Doc] | None, locale: str) -> Any:
    """The data shown for one attribute in a locale: the first entry of that locale or without
    a locale (any channel)."""
    for entry in entries or []:
        if entry.get("locale") in (None, locale):
            return entry.get("data")
    return None


class Browser:
    """Read-only views over one sandbox's stores."""

    def __init__(self, state: Sandbox) -> None:
        self.state = state

    @property
    def catalog(self) -> Catalog:
        return self.state.catalog

    def grid(
        self,
        *,
        text: str,
        kind: Kind,
        category: str | None,
        locale: str,
        offset: int,
        limit: int,
    ) -> Grid:
        products_query, models_query = self._queries(text, category)
        store, models = self.state.store, self.state.models
        matching_models = models.count(models_query) if kind != "products" else 0
        matching_products = store.count_products(products_query) if kind != "models" else 0
        docs: list[tuple[bool, Doc]] = []
        if offset < matching_models:
            docs += [(True, d) for d in models.list(models_query, limit, offset=offset)]
        room = limit - len(docs)
        if room > 0 and kind != "models":
            start = max(0, offset - matching_models)
            found = store.list_products(products_query, "identifier", room, offset=start)
            docs += [(False, d) for d in found]
        return Grid(
            rows=[self._row(is_model, doc, locale) for is_model, doc in docs],
            matching_models=matching_models,
            matching_products=matching_products,
            total_models=models.count(),
            total_products=store.count_products(),
        )

    def _queries(self, text: str, category: str | None) -> tuple[Query, Query]:
        now = datetime.fromtimestamp(self.state.clock(), UTC)
        filters: list[tuple[str, str, Any]] = []
        if category:
            filters.append(("categories", "IN", [category]))
        products = product_query(filters, now, by_uuid=True)
        models = product_model_query(filters, now)
        if text:
            products = all_of(products, text_query("identifier", text))
            models = all_of(models, text_query("code", text))
        return products, models

    def _row(self, is_model: bool, doc: Doc, locale: str) -> Row:
        if is_model:
            key = name = str(doc["code"])
            enabled = None
        else:
            key = str(doc["uuid"])
            name = str(doc["identifier"] or doc["uuid"])
            enabled = bool(doc["enabled"])
        return Row(
            is_model=is_model,
            key=key,
            name=name,
            family=doc.get("family"),
            label=self.label(doc, locale),
            image=self.image(doc, locale),
            enabled=enabled,
            parent=doc.get("parent"),
            updated=str(doc.get("updated", "")),
        )

    def label(self, doc: Doc, locale: str) -> str | None:
        """The value of the family's `attribute_as_label` in `locale`, an ancestor's if the
        entity has none of its own."""
        doc = self.state.models.with_ancestors(doc)
        family = self.catalog.families.get(str(doc.get("family"))) or {}
        attribute = family.get("attribute_as_label")
        data = pick(doc["values"].get(attribute), locale) if attribute else None
        return None if data in (None, "") else str(data)

    def image(self, doc: Doc, locale: str) -> str | None:
        """Media code of the thumbnail: the family's `attribute_as_image`, else the first image
        attribute that has a value (own or an ancestor's)."""
        doc = self.state.models.with_ancestors(doc)
        family = self.catalog.families.get(str(doc.get("family"))) or {}
        first = family.get("attribute_as_image")
        candidates = [first] if first else []
        candidates += [
            code
            for code in family.get("attributes") or list(doc["values"])
            if self.catalog.attributes.get(code, {}).get("type") == IMAGE
        ]
        for code in candidates:
            data = pick(doc["values"].get(code), locale)
            if isinstance(data, str) and data:
                return data
        return None

    # --- one entity ------------------------------------------------------------------------

    def product(self, uuid: str) -> Doc | None:
        return self.state.store.product_by_uuid(uuid.lower())

    def model(self, code: str) -> Doc | None:
        return self.state.models.get(code)

    def ancestors(self, doc: Doc) -> list[Doc]:
        """Parent first, then its parent (at most two levels; a loop would stop)."""
        found: list[Doc] = []
        code = doc.get("parent")
        while code and all(a["code"] != code for a in found):
            parent = self.state.models.get(code)
            if parent is None:
                break
            found.append(parent)
            code = parent.get("parent")
        return found

    def values(self, doc: Doc) -> list[Value]:
        """Own values, then those inherited from each ancestor, in the catalog's attribute
        order, each attribute's entries by channel then locale."""
        chain: list[tuple[Doc, str | None]] = [(doc, None)]
        chain += [(a, str(a["code"])) for a in self.ancestors(doc)]
        by_attribute: dict[str, list[Value]] = {}
        for holder, source in chain:
            for code, entries in holder["values"].items():
                if code in by_attribute:
                    continue
                ordered = sorted(entries, key=lambda e: (e["scope"] or "", e["locale"] or ""))
                by_attribute[code] = [
                    Value(code, e["locale"], e["scope"], e["data"], source) for e in ordered
                ]
        position = {code: n for n, code in enumerate(self.catalog.attributes)}
        codes = sorted(by_attribute, key=lambda c: (position.get(c, len(position)), c))
        return [value for code in codes for value in by_attribute[code]]

    def categories(self, doc: Doc) -> list[str]:
        """Own categories and those of the ancestors, as GET shows them."""
        return list(self.state.models.with_ancestors(doc)["categories"])

    def tree(self, model: Doc) -> Node:
        """The model with its sub models and their variant products."""
        node = Node(model, products=self.state.models.products_under(model["code"]))
        node.models = [self.tree(sub) for sub in self.state.models.models_under(model["code"])]
        return node

    def product_name(self, uuid: str) -> str | None:
        """The identifier of the product with this uuid (associations store uuids)."""
        found = self.state.store.product_by_uuid(uuid)
        return None if found is None else str(found["identifier"] or found["uuid"])

    def media(self, code: str) -> Doc | None:
        return self.state.media.info(code)

    def media_content(self, code: str) -> bytes | None:
        return self.state.media.content(code)

    # --- categories ------------------------------------------------------------------------

    def category_children(self) -> dict[str | None, list[Doc]]:
        """Categories by parent code (None: roots), in the catalog's order."""
        children: dict[str | None, list[Doc]] = {}
        for doc in self.catalog.categories.values():
            children.setdefault(doc.get("parent"), []).append(doc)
        return children

    def default_locale(self) -> str:
        """The first activated locale of the first channel, else the first activated one."""
        active = self.catalog.active_locales()
        for channel in self.catalog.channels.values():
            for code in channel.get("locales", []):
                if code in active:
                    return str(code)
        return next(iter(sorted(active)), "en_US")
