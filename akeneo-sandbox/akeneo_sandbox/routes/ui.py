"""The sandbox browser: read-only HTML pages under /sandbox/ui.

Like the admin routes they need no authentication and are never faulted, limited, delayed or
counted (those layers only act on /api). Every value is escaped by `markup`; pages have inline
CSS and no script.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from akeneo_sandbox.browse import KINDS, Browser, Grid, Kind, Node, Row, Value
from akeneo_sandbox.catalog import Doc
from akeneo_sandbox.http import sandbox
from akeneo_sandbox.markup import (
    CSP,
    ICON,
    ICON_PATH,
    Child,
    Markup,
    join,
    link,
    page,
    path_part,
    tag,
    with_query,
)

UI = "/sandbox/ui"
PER_PAGE = 25
MAX_PER_PAGE = 100
KIND_NAMES = {"all": "Products and models", "products": "Products", "models": "Product models"}
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def ui_routes() -> list[Route]:
    return [
        Route(UI, grid_page, methods=["GET"]),
        Route(f"{UI}/products/{{uuid}}", product_page, methods=["GET"]),
        Route(f"{UI}/product-models/{{code:path}}", model_page, methods=["GET"]),
        Route(f"{UI}/categories", categories_page, methods=["GET"]),
        Route(f"{UI}/media/{{code:path}}", media_file, methods=["GET"]),
        Route(ICON_PATH, icon, methods=["GET"]),
    ]


class View:
    """One request's browser and chosen locale, with the links that keep that locale."""

    def __init__(self, request: Request) -> None:
        self.browser = Browser(sandbox(request))
        self.catalog = self.browser.catalog
        asked = request.query_params.get("locale")
        self.locales = sorted(self.catalog.active_locales())
        self.locale = asked if asked in self.locales else self.browser.default_locale()

    def href(self, path: str, **params: str | int | None) -> str:
        return with_query(path, {**params, "locale": self.locale})

    def product_href(self, uuid: str) -> str:
        return self.href(f"{UI}/products/{path_part(uuid)}")

    def model_href(self, code: str) -> str:
        return self.href(f"{UI}/product-models/{path_part(code)}")

    def nav(self) -> list[tuple[str, str]]:
        return [
            ("Products and models", self.href(UI)),
            ("Categories", self.href(f"{UI}/categories")),
            ("Stats (JSON)", "/sandbox/stats"),
        ]

    def html(self, title: str, *body: Child, status: int = 200) -> Response:
        return Response(
            page(title, self.nav(), *body),
            status_code=status,
            media_type="text/html; charset=utf-8",
            headers=HEADERS,
        )

    def not_found(self, what: str) -> Response:
        return self.html("Not found", tag("p", f"{what} does not exist."), status=404)

    def labelled(self, labels: Doc | None, code: str) -> str:
        """Akeneo's fallback for a missing label: the code in brackets."""
        label = (labels or {}).get(self.locale)
        return str(label) if label else f"[{code}]"

    def attribute_name(self, code: str) -> Markup:
        """The attribute's label with its code, or the code alone when it has no label."""
        label = (self.catalog.attributes.get(code, {}).get("labels") or {}).get(self.locale)
        return join(f"{label} " if label else None, tag("code", code))

    def category_label(self, code: str) -> str:
        return self.labelled(self.catalog.categories.get(code, {}).get("labels"), code)


def media_href(code: str) -> str:
    return f"{UI}/media/{quote(code, safe='/')}"


def _number(raw: str | None, default: int, low: int, high: int) -> int:
    try:
        value = int(raw) if raw is not None else default
    except ValueError:
        return default
    return min(max(value, low), high)


# --- grid ----------------------------------------------------------------------------------


async def grid_page(request: Request) -> Response:
    view = View(request)
    params = request.query_params
    text = params.get("q", "").strip()
    kind: Kind = next((k for k in KINDS if k == params.get("kind")), "all")
    category = params.get("category") or None
    limit = _number(params.get("limit"), PER_PAGE, 1, MAX_PER_PAGE)
    number = _number(params.get("page"), 1, 1, 10**9)
    offset = (number - 1) * limit
    grid = view.browser.grid(
        text=text, kind=kind, category=category, locale=view.locale, offset=offset, limit=limit
    )
    state = {"q": text, "kind": kind, "category": category, "limit": limit}
    return view.html(
        KIND_NAMES[kind],
        _filters(view, text, kind, category, limit),
        _counts(grid, offset),
        _grid_table(view, grid.rows),
        _pager(view, state, number, limit, grid.matching),
    )


def _filters(view: View, text: str, kind: Kind, category: str | None, limit: int) -> Markup:
    kinds = [tag("option", KIND_NAMES[k], value=k, selected=k == kind) for k in KINDS]
    locales = [tag("option", c, value=c, selected=c == view.locale) for c in view.locales]
    chosen = None
    if category:
        chosen = join(
            tag("input", type="hidden", name="category", value=category),
            tag(
                "span",
                f"Category: {view.category_label(category)} ",
                link(view.href(UI, q=text, kind=kind), "×", title="all categories"),
                class_="badge",
                id="category-filter",
            ),
        )
    return tag(
        "form",
        tag(
            "input",
            type="search",
            name="q",
            value=text,
            placeholder="identifier, code or value",
            aria_label="text filter",
        ),
        tag("select", kinds, name="kind", aria_label="kind"),
        tag("label", "Locale ", tag("select", locales, name="locale")),
        chosen,
        tag("input", type="hidden", name="limit", value=limit) if limit != PER_PAGE else None,
        tag("button", "Filter", type="submit"),
        class_="filters",
        method="get",
        action=UI,
    )


def _plural(count: int, word: str) -> str:
    if count == 1:
        return f"{count} {word}"
    return f"{count} {word[:-1]}ies" if word.endswith("y") else f"{count} {word}s"


def _moment(stored: object) -> str:
    """`2026-12-01T20:34:40+00:00` as `2026-12-01 20:34:40` (stored times are UTC)."""
    return str(stored or "")[:19].replace("T", " ")


def _counts(grid: Grid, offset: int) -> Markup:
    shown = (
        f"Showing {offset + 1}–{offset + len(grid.rows)} of {grid.matching}"
        if grid.rows
        else f"Showing none of {grid.matching}"
    )
    return join(
        tag(
            "p",
            f"{shown}: {_plural(grid.matching_products, 'product')}, "
            f"{_plural(grid.matching_models, 'product model')}.",
            class_="count",
            id="count",
            data_products=grid.matching_products,
            data_models=grid.matching_models,
        ),
        tag(
            "p",
            f"The PIM holds {_plural(grid.total_products, 'product')} and "
            f"{_plural(grid.total_models, 'product model')}.",
            class_="muted",
            id="totals",
        ),
    )


def _kind_name(is_model: bool, parent: str | None) -> str:
    if is_model:
        return "Sub product model" if parent else "Product model"
    return "Variant product" if parent else "Product"


def _thumbnail(code: str | None, name: str) -> Markup:
    if code is None:
        return tag("span", "—", class_="muted")
    return tag("img", src=media_href(code), alt=f"image of {name}", class_="thumb", loading="lazy")


def _grid_table(view: View, rows: list[Row]) -> Markup:
    head = ["Image", "Identifier / code", "Type", "Family", f"Label ({view.locale})"]
    head += ["Enabled", "Parent", "Updated"]
    lines = [_grid_row(view, row) for row in rows]
    if not lines:
        lines = [tag("tr", tag("td", "Nothing matches.", colspan=len(head), class_="muted"))]
    return tag(
        "table",
        tag("thead", tag("tr", [tag("th", h) for h in head])),
        tag("tbody", lines),
        id="grid",
    )


def _grid_row(view: View, row: Row) -> Markup:
    href = view.model_href(row.key) if row.is_model else view.product_href(row.key)
    enabled: Child = "—"
    if row.enabled is not None:
        enabled = tag(
            "span", "yes" if row.enabled else "no", class_=f"badge {'on' if row.enabled else 'off'}"
        )
    return tag(
        "tr",
        tag("td", _thumbnail(row.image, row.name)),
        tag("td", link(href, row.name), class_="key"),
        tag("td", _kind_name(row.is_model, row.parent)),
        tag("td", row.family or "—"),
        tag("td", row.label if row.label else tag("span", f"[{row.name}]", class_="muted")),
        tag("td", enabled),
        tag("td", link(view.model_href(row.parent), row.parent) if row.parent else "—"),
        tag("td", _moment(row.updated), class_="muted nowrap"),
        data_kind="model" if row.is_model else "product",
        data_key=row.key,
    )


def _pager(
    view: View, state: dict[str, str | int | None], number: int, limit: int, total: int
) -> Markup:
    pages = max(1, -(-total // limit))
    limit_param = limit if limit != PER_PAGE else None
    query = {**state, "limit": limit_param}
    previous = link(view.href(UI, **query, page=number - 1), "‹ Previous") if number > 1 else None
    following = link(view.href(UI, **query, page=number + 1), "Next ›") if number < pages else None
    return tag(
        "nav",
        previous,
        tag("span", f"Page {number} of {pages}", id="page-number"),
        following,
        class_="pager",
        aria_label="pages",
    )


# --- one product or product model ----------------------------------------------------------


async def product_page(request: Request) -> Response:
    view = View(request)
    doc = view.browser.product(request.path_params["uuid"])
    if doc is None:
        return view.not_found(f"Product {request.path_params['uuid']}")
    name = _product_name(doc)
    kind = _kind_name(False, doc.get("parent"))
    facts = [
        ("Type", kind),
        ("Identifier", doc["identifier"] or "—"),
        ("UUID", doc["uuid"]),
        ("Family", doc.get("family") or "—"),
        ("Enabled", "yes" if doc["enabled"] else "no"),
        ("Label", view.browser.label(doc, view.locale)),
        ("Created", f"{_moment(doc['created'])} UTC"),
        ("Updated", f"{_moment(doc['updated'])} UTC"),
    ]
    return view.html(f"{kind} {name}", *_entity(view, doc, facts, is_model=False))


async def model_page(request: Request) -> Response:
    view = View(request)
    doc = view.browser.model(request.path_params["code"])
    if doc is None:
        return view.not_found(f"Product model {request.path_params['code']}")
    kind = _kind_name(True, doc.get("parent"))
    facts = [
        ("Type", kind),
        ("Code", doc["code"]),
        ("Family", doc.get("family") or "—"),
        ("Family variant", doc.get("family_variant") or "—"),
        ("Label", view.browser.label(doc, view.locale)),
        ("Created", f"{_moment(doc['created'])} UTC"),
        ("Updated", f"{_moment(doc['updated'])} UTC"),
    ]
    return view.html(f"{kind} {doc['code']}", *_entity(view, doc, facts, is_model=True))


def _entity(view: View, doc: Doc, facts: list[tuple[str, Child]], is_model: bool) -> list[Markup]:
    ancestors = view.browser.ancestors(doc)
    if ancestors:
        chain = [link(view.model_href(a["code"]), a["code"]) for a in reversed(ancestors)]
        facts.append(("Parent", join(_between(chain, " › "))))
    values = view.browser.values(doc)
    dl = tag(
        "dl",
        [join(tag("dt", k), tag("dd", v or "—", data_fact=k.lower())) for k, v in facts],
        class_="facts",
    )
    return [
        tag("div", dl, _gallery(view, values), class_="top"),
        tag("h2", "Values"),
        _values_table(view, values),
        tag("h2", "Categories"),
        _category_list(view, view.browser.categories(doc)),
        tag("h2", "Family tree"),
        _family_tree(view, doc, ancestors, is_model),
        tag("h2", "Associations"),
        _associations(view, doc),
    ]


def _gallery(view: View, values: list[Value]) -> Markup | None:
    """The image values, large, beside the facts (the table shows them small)."""
    figures = []
    for value in values:
        kind = view.catalog.attributes.get(value.attribute, {}).get("type")
        if kind != "pim_catalog_image" or not isinstance(value.data, str):
            continue
        info = view.browser.media(value.data)
        name = str(info["original_filename"]) if info else value.data
        where = " · ".join(w for w in (value.attribute, value.scope, value.locale) if w)
        figures.append(
            tag(
                "figure",
                tag("img", src=media_href(value.data), alt=name, class_="image"),
                tag("figcaption", f"{name} ({where})"),
                data_attribute=value.attribute,
            )
        )
    return tag("div", figures, class_="gallery", id="images") if figures else None


def _between(items: list[Markup], separator: str) -> Iterable[Child]:
    for n, item in enumerate(items):
        if n:
            yield separator
        yield item


def _values_table(view: View, values: list[Value]) -> Markup:
    if not values:
        return tag("p", "No values.", class_="muted", id="values")
    head = ["Attribute", "Channel", "Locale", "Value", "From"]
    rows = [
        tag(
            "tr",
            tag("td", view.attribute_name(v.attribute)),
            tag("td", v.scope or "—"),
            tag("td", v.locale or "—"),
            tag("td", _value(view, v), class_="value"),
            tag(
                "td",
                link(view.model_href(v.source), v.source) if v.source else "own",
                class_="source",
            ),
            data_attribute=v.attribute,
            data_locale=v.locale or "",
            data_scope=v.scope or "",
        )
        for v in values
    ]
    head_row = tag("thead", tag("tr", [tag("th", h) for h in head]))
    return tag("table", head_row, tag("tbody", rows), id="values")


def _value(view: View, value: Value) -> Child:
    """A value as a person reads it: option labels, amounts with units, images shown."""
    attribute = view.catalog.attributes.get(value.attribute, {})
    kind, data = attribute.get("type"), value.data
    if data is None or data == "" or data == []:
        return tag("span", "(empty)", class_="muted")
    if kind in ("pim_catalog_image", "pim_catalog_file") and isinstance(data, str):
        return _media_value(view, data, kind == "pim_catalog_image")
    if kind == "pim_catalog_simpleselect":
        return _option(view, value.attribute, data)
    if kind == "pim_catalog_multiselect" and isinstance(data, list):
        return join(_between([_option(view, value.attribute, d) for d in data], ", "))
    if kind == "pim_catalog_boolean":
        return "yes" if data else "no"
    if kind == "pim_catalog_metric" and isinstance(data, dict):
        return f"{data.get('amount')} {data.get('unit')}"
    if kind == "pim_catalog_price_collection" and isinstance(data, list):
        return ", ".join(
            f"{p.get('amount')} {p.get('currency')}" for p in data if isinstance(p, dict)
        )
    if kind == "pim_catalog_date":
        return str(data)[:10]
    if isinstance(data, str | int | float):
        return str(data)
    return tag("code", json.dumps(data, ensure_ascii=False))


def _option(view: View, attribute: str, code: Any) -> Markup:
    option = view.catalog.find_option(attribute, str(code))
    label = (option or {}).get("labels", {}).get(view.locale)
    return join(f"{label} " if label else "", tag("code", f"[{code}]"))


def _media_value(view: View, code: str, is_image: bool) -> Markup:
    info = view.browser.media(code)
    name = str(info["original_filename"]) if info else code
    file_link = link(media_href(code), name, class_="media-link")
    if not is_image:
        return file_link
    image = tag("img", src=media_href(code), alt=name, class_="thumb")
    return join(image, " ", file_link)


def _category_list(view: View, codes: list[str]) -> Markup:
    if not codes:
        return tag("p", "No categories.", class_="muted", id="categories")
    items = [
        tag(
            "li",
            link(view.href(UI, category=code), view.category_label(code)),
            " ",
            tag("code", code),
            data_code=code,
        )
        for code in codes
    ]
    return tag("ul", items, id="categories")


def _family_tree(view: View, doc: Doc, ancestors: list[Doc], is_model: bool) -> Markup:
    """The whole tree from the root model, the page's own entity marked."""
    root = ancestors[-1] if ancestors else (doc if is_model else None)
    if root is None:
        return tag("p", "A simple product: no parent, no variants.", class_="muted", id="tree")
    current = doc["code"] if is_model else doc["uuid"]
    axes = _axes_by_level(view, root)
    top = _tree_node(view, view.browser.tree(root), current, axes, 0)
    return tag("ul", top, class_="tree", id="tree")


def _axes_by_level(view: View, root: Doc) -> list[list[str]]:
    variant = view.catalog.items["family_variants"].get(str(root.get("family_variant"))) or {}
    sets = sorted(variant.get("variant_attribute_sets", []), key=lambda s: s.get("level", 0))
    return [list(s.get("axes", [])) for s in sets]


def _axis_text(view: View, entity: Doc, axes: list[str]) -> Child:
    shown = []
    for code in axes:
        entries = entity["values"].get(code) or []
        if entries:
            value = Value(code, None, None, entries[0]["data"], None)
            shown.append(join(view.attribute_name(code), ": ", _value(view, value)))
    return tag("span", " (", _between(shown, ", "), ")", class_="muted") if shown else None


def _tree_node(view: View, node: Node, current: str, axes: list[list[str]], level: int) -> Markup:
    code = str(node.model["code"])
    level_axes = axes[level - 1] if 0 < level <= len(axes) else []
    children = [_tree_node(view, sub, current, axes, level + 1) for sub in node.models]
    product_axes = axes[level] if level < len(axes) else []
    children += [
        tag(
            "li",
            _entry(view.product_href(p["uuid"]), _product_name(p), p["uuid"] == current),
            " variant product",
            _axis_text(view, p, product_axes),
            data_kind="product",
            data_key=p["uuid"],
        )
        for p in node.products
    ]
    return tag(
        "li",
        _entry(view.model_href(code), code, code == current),
        " sub product model" if level else " product model",
        _axis_text(view, node.model, level_axes),
        tag("ul", children, class_="tree") if children else None,
        data_kind="model",
        data_key=code,
    )


def _product_name(doc: Doc) -> str:
    return str(doc["identifier"] or doc["uuid"])


def _entry(href: str, name: str, is_current: bool) -> Markup:
    if is_current:
        return tag("strong", name, aria_current="page")
    return link(href, name)


def _associations(view: View, doc: Doc) -> Markup:
    rows: list[Markup] = []
    for kind, links in sorted(doc.get("associations", {}).items()):
        targets = [
            *(_product_target(view, uuid, None) for uuid in links.get("products", [])),
            *(link(view.model_href(c), c) for c in links.get("product_models", [])),
            *(tag("span", f"group {g}") for g in links.get("groups", [])),
        ]
        if targets:
            rows.append(_association_row(view, kind, targets))
    for kind, links in sorted(doc.get("quantified_associations", {}).items()):
        targets = [
            *(_product_target(view, p["uuid"], p["quantity"]) for p in links.get("products", [])),
            *(
                join(link(view.model_href(m["identifier"]), m["identifier"]), f" × {m['quantity']}")
                for m in links.get("product_models", [])
            ),
        ]
        if targets:
            rows.append(_association_row(view, kind, targets))
    if not rows:
        return tag("p", "No associations.", class_="muted", id="associations")
    head = tag("thead", tag("tr", tag("th", "Type"), tag("th", "Linked to")))
    return tag("table", head, tag("tbody", rows), id="associations")


def _product_target(view: View, uuid: str, quantity: int | None) -> Markup:
    name = view.browser.product_name(uuid) or uuid
    amount = f" × {quantity}" if quantity is not None else None
    return join(link(view.product_href(uuid), name), amount)


def _association_row(view: View, kind: str, targets: list[Markup]) -> Markup:
    kind_doc = view.catalog.association_types.get(kind, {})
    return tag(
        "tr",
        tag("td", view.labelled(kind_doc.get("labels"), kind), " ", tag("code", kind)),
        tag("td", _between(targets, ", ")),
        data_type=kind,
    )


# --- categories and media ------------------------------------------------------------------


async def categories_page(request: Request) -> Response:
    view = View(request)
    children = view.browser.category_children()
    trees: dict[str, list[str]] = {}
    for channel in view.catalog.channels.values():
        trees.setdefault(str(channel.get("category_tree")), []).append(str(channel["code"]))
    roots = [_category_node(view, doc, children, trees, set()) for doc in children.get(None, [])]
    count = len(view.catalog.categories)
    return view.html(
        "Categories",
        tag("p", f"{_plural(count, 'category')}; each links to its products.", class_="muted"),
        tag("ul", roots, class_="tree", id="category-tree") if roots else tag("p", "None."),
    )


def _category_node(
    view: View,
    doc: Doc,
    children: dict[str | None, list[Doc]],
    trees: dict[str, list[str]],
    seen: set[str],
) -> Markup:
    code = str(doc["code"])
    seen.add(code)
    below = [
        _category_node(view, child, children, trees, seen)
        for child in children.get(code, [])
        if child["code"] not in seen
    ]
    channels = trees.get(code)
    return tag(
        "li",
        link(view.href(UI, category=code), view.category_label(code)),
        " ",
        tag("code", code),
        tag("span", f" tree of {', '.join(channels)}", class_="muted") if channels else None,
        tag("ul", below, class_="tree") if below else None,
        data_code=code,
    )


async def media_file(request: Request) -> Response:
    """A stored file's bytes; only images are shown inline, anything else is a download."""
    browser = Browser(sandbox(request))
    code = request.path_params["code"]
    info, content = browser.media(code), browser.media_content(code)
    if info is None or content is None:
        return Response(f"no media file {code}", status_code=404, media_type="text/plain")
    mime = str(info["mime_type"])
    inline = mime in ("image/png", "image/jpeg", "image/gif")
    filename = quote(str(info["original_filename"]))
    disposition = "inline" if inline else "attachment"
    headers = {
        "Content-Disposition": f"{disposition}; filename*=UTF-8''{filename}",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox; default-src 'none'",
    }
    media_type = mime if inline else "application/octet-stream"
    return Response(content, media_type=media_type, headers=headers)


async def icon(request: Request) -> Response:
    return Response(ICON, media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"})
