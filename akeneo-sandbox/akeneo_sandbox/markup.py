"""A small HTML builder that escapes by default: product data is untrusted.

Every plain `str` given to `tag` or `join` is HTML-escaped; only `Markup` (built by these
functions) passes through. Pages carry their CSS inline and no script, so they work without
network and a stored value can never run code (see `CSP`).
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from urllib.parse import quote, urlencode

# No script at all, images and forms only from the sandbox itself, inline styles allowed.
CSP = (
    "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
CSS = """
*{box-sizing:border-box}
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1f2430;background:#f6f7f9}
header{background:#5e3f8c;color:#fff;padding:8px 16px;display:flex;gap:16px;align-items:center}
header a{color:#fff;text-decoration:none}
header strong{font-size:16px;margin-right:8px}
main{padding:12px 16px}
h1{font-size:20px;margin:4px 0 12px}
h2{font-size:16px;margin:18px 0 6px}
a{color:#4a2f75}
table{border-collapse:collapse;background:#fff;width:100%}
th,td{border:1px solid #dde0e6;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eceef2;font-weight:600}
form.filters{display:flex;gap:8px;align-items:center;margin-bottom:8px;flex-wrap:wrap}
input,select,button{font:inherit;padding:3px 6px}
.muted{color:#7a8090}
.nowrap{white-space:nowrap}
input[type=search]{width:260px}
p.count{margin:6px 0 2px}p#totals{margin:0 0 8px}
.pager{display:flex;gap:12px;margin:8px 0}
img.thumb{width:48px;height:48px;object-fit:contain;background:#fff;border:1px solid #dde0e6}
img.image{max-width:220px;max-height:220px;border:1px solid #dde0e6;background:#fff}
div.top{display:flex;gap:32px;align-items:flex-start;justify-content:space-between}
div.gallery{display:flex;gap:12px;flex-wrap:wrap}
figure{margin:0}figcaption{font-size:12px;color:#7a8090}
td.value img.thumb{vertical-align:middle}
.badge{display:inline-block;padding:0 6px;border-radius:8px;font-size:12px;background:#e4e7ee}
.on{background:#d5f0dc}.off{background:#f6d9d9}
ul.tree{list-style:none;padding-left:18px;margin:2px 0}
dl.facts{display:grid;grid-template-columns:max-content auto;gap:2px 12px;margin:0 0 8px}
dl.facts dt{font-weight:600}dl.facts dd{margin:0}
"""


# Served at ICON_PATH, so the browser does not ask for /favicon.ico (a 404).
ICON_PATH = "/sandbox/ui/icon.svg"
ICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">'
    '<rect width="16" height="16" rx="3" fill="#5e3f8c"/>'
    '<path d="M4 13 8 3l4 10M5.6 9h4.8" stroke="#fff" stroke-width="1.8" fill="none"/></svg>'
)


class Markup(str):
    """Text that is already HTML (built here, or escaped)."""

    __slots__ = ()


def escape(value: object) -> Markup:
    if isinstance(value, Markup):
        return value
    return Markup(html.escape(str(value), quote=True))


Child = str | Markup | None | Iterable["Child"]


def join(*children: Child) -> Markup:
    """Children escaped (plain text) or kept (Markup), nested iterables flattened, None dropped."""
    parts: list[str] = []
    for child in children:
        if child is None:
            continue
        if isinstance(child, str):
            parts.append(escape(child))
        else:
            parts.append(join(*child))
    return Markup("".join(parts))


def tag(element: str, /, *children: Child, **attrs: str | int | bool | None) -> Markup:
    """`<element attrs>children</element>`; `class_` gives `class`, `data_x` gives `data-x`;
    attribute values are escaped, False and None leave the attribute out, True writes it bare."""
    rendered = []
    for key, value in attrs.items():
        if value is None or value is False:
            continue
        attr = key.rstrip("_").replace("_", "-")
        rendered.append(f" {attr}" if value is True else f' {attr}="{escape(value)}"')
    opening = f"<{element}{''.join(rendered)}>"
    if element in ("img", "input", "br", "meta", "link"):
        return Markup(opening)
    return Markup(f"{opening}{join(*children)}</{element}>")


def link(href: str, /, *children: Child, **attrs: str | int | bool | None) -> Markup:
    return tag("a", *children, href=href, **attrs)


def path_part(text: str) -> str:
    """One URL path segment (slashes too) for a code or identifier."""
    return quote(text, safe="")


def with_query(path: str, params: dict[str, str | int | None]) -> str:
    kept = {k: v for k, v in params.items() if v not in (None, "")}
    return f"{path}?{urlencode(kept)}" if kept else path


def page(title: str, nav: Iterable[tuple[str, str]], *body: Child) -> str:
    """A whole document with the sandbox's header (`nav`: label, href)."""
    links = [link(href, label) for label, href in nav]
    return "<!DOCTYPE html>" + join(
        tag(
            "html",
            tag(
                "head",
                tag("meta", charset="utf-8"),
                tag("link", rel="icon", href=ICON_PATH, type="image/svg+xml"),
                tag("title", f"{title} · akeneo-sandbox"),
                tag("style", Markup(CSS)),
            ),
            tag(
                "body",
                tag("header", tag("strong", "akeneo-sandbox"), links),
                tag("main", tag("h1", title), *body),
            ),
            lang="en",
        )
    )
