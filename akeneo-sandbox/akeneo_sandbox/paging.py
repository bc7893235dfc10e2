"""Pagination: `page`/`limit`/`with_count` parameters and the `_links` of list answers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from akeneo_sandbox.errors import ApiError
from akeneo_sandbox.http import url

MAX_LIMIT = 100
MAX_PRODUCT_PAGES_ITEMS = 10_000


@dataclass(frozen=True)
class Page:
    page: int
    limit: int
    with_count: bool

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit


def _positive(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ApiError(422, f'"{raw}" is not a valid {name} number.')
    return int(raw)


def read_page(request: Request) -> Page:
    limit = _positive(request, "limit", 10)
    if limit > MAX_LIMIT:
        raise ApiError(422, f"You cannot request more than {MAX_LIMIT} items.")
    with_count = request.query_params.get("with_count", "false")
    if with_count not in ("true", "false"):
        raise ApiError(
            422,
            f'Parameter "with_count" has to be a boolean. Only "true" or "false" allowed, "{with_count}" given.',  # noqa: E501
        )
    return Page(_positive(request, "page", 1), limit, with_count == "true")


def item_links(request: Request, path: str) -> dict[str, Any]:
    return {"self": {"href": url(request, path)}}


def page_body(
    request: Request,
    path: str,
    page: Page,
    items: list[dict[str, Any]],
    has_next: bool,
    count: int | None,
    keep: dict[str, str],
) -> dict[str, Any]:
    """The paginated answer; `keep` holds query parameters repeated in every link."""

    def link(number: int) -> dict[str, str]:
        params = {
            "page": str(number),
            "with_count": str(page.with_count).lower(),
            "limit": str(page.limit),
            **keep,
        }
        return {"href": url(request, path, params)}

    links: dict[str, Any] = {"self": link(page.page), "first": link(1)}
    if page.page > 1:
        links["previous"] = link(page.page - 1)
    if has_next:
        links["next"] = link(page.page + 1)
    body: dict[str, Any] = {"_links": links, "current_page": page.page}
    if count is not None:
        body["items_count"] = count
    body["_embedded"] = {"items": items}
    return body


def search_after_body(
    request: Request,
    path: str,
    limit: int,
    items: list[dict[str, Any]],
    next_key: str | None,
    keep: dict[str, str],
) -> dict[str, Any]:
    def link(extra: dict[str, str]) -> dict[str, str]:
        params = {"pagination_type": "search_after", "limit": str(limit), **keep, **extra}
        return {"href": url(request, path, params)}

    current = request.query_params.get("search_after")
    links: dict[str, Any] = {
        "self": link({"search_after": current} if current else {}),
        "first": link({}),
    }
    if next_key is not None:
        links["next"] = link({"search_after": next_key})
    return {"_links": links, "_embedded": {"items": items}}


def listing(
    request: Request,
    path: str,
    keep: dict[str, str],
    order: str,
    fetch: Callable[[int, int, str | None], list[dict[str, Any]]],
    count: Callable[[], int],
    present: Callable[[dict[str, Any]], dict[str, Any]],
) -> dict[str, Any]:
    """A list of products or product models: `page` or `search_after` on the `order` key.
    `fetch(limit, offset, after)` reads the documents, `count()` the total for `with_count`."""
    pagination = request.query_params.get("pagination_type", "page")
    if pagination == "search_after":
        page = read_page(request)
        docs = fetch(page.limit + 1, 0, request.query_params.get("search_after"))
        more = len(docs) > page.limit
        docs = docs[: page.limit]
        next_key = str(docs[-1][order]) if more and docs else None
        items = [present(d) for d in docs]
        return search_after_body(request, path, page.limit, items, next_key, keep)
    if pagination != "page":
        raise ApiError(422, "Pagination type does not exist.")
    page = read_page(request)
    if page.offset + page.limit > MAX_PRODUCT_PAGES_ITEMS:
        raise ApiError(
            422,
            'You have reached the maximum number of pages you can retrieve with the "page" '
            "pagination type. Please use the search after pagination type instead",
        )
    docs = fetch(page.limit + 1, page.offset, None)
    total = count() if page.with_count else None
    items = [present(d) for d in docs[: page.limit]]
    return page_body(request, path, page, items, len(docs) > page.limit, total, keep)
