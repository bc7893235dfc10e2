"""Structure routes: attributes and their options, families, categories, channels, locales,
currencies, measurement families."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from akeneo_sandbox.catalog import NO_OPTIONS, SELECT_TYPES, Doc
from akeneo_sandbox.errors import ApiError
from akeneo_sandbox.http import (
    authenticate,
    collection_response,
    json_body,
    json_response,
    require_collection,
    url,
)
from akeneo_sandbox.paging import item_links, page_body, read_page
from akeneo_sandbox.search import parse_search, product_query, structure_predicate
from akeneo_sandbox.state import Sandbox
from akeneo_sandbox.structure import delete_item, not_found, write_item, write_lines

PREFIX = "/api/rest/v1"
WRITABLE = {
    "attributes": "attributes",
    "families": "families",
    "categories": "categories",
    "channels": "channels",
    "association_types": "association-types",
}
READ_ONLY_KINDS = {"locales": "locales", "currencies": "currencies"}


def _option_attribute(state: Sandbox, request: Request) -> str:
    code = str(request.path_params["attribute_code"])
    attribute = state.catalog.attributes.get(code)
    if attribute is None:
        raise not_found("attributes", code)
    if attribute["type"] not in SELECT_TYPES:
        raise ApiError(404, NO_OPTIONS.format(code))
    return code


def _items(state: Sandbox, kind: str, attribute: str | None) -> list[Doc]:
    docs = list(state.catalog.items[kind].values())
    if attribute is not None:
        docs = [d for d in docs if d["attribute"] == attribute]
    return docs


def _item_path(path: str, code: str) -> str:
    return f"{path}/{quote(code, safe='')}"


def lister(kind: str, path: str, options: bool = False) -> object:
    async def handler(request: Request) -> Response:
        state = authenticate(request)
        attribute = _option_attribute(state, request) if options else None
        base = path.format(**request.path_params)
        matches = structure_predicate(kind, parse_search(request.query_params.get("search")))
        page = read_page(request)
        docs = [d for d in _items(state, kind, attribute) if matches(d)]
        chosen = docs[page.offset : page.offset + page.limit]
        items = [{"_links": item_links(request, _item_path(base, d["code"])), **d} for d in chosen]
        keep = (
            {"search": request.query_params["search"]} if "search" in request.query_params else {}
        )
        count = len(docs) if page.with_count else None
        has_next = page.offset + page.limit < len(docs)
        return json_response(page_body(request, base, page, items, has_next, count, keep))

    return handler


def getter(kind: str, options: bool = False) -> object:
    async def handler(request: Request) -> Response:
        state = authenticate(request)
        attribute = _option_attribute(state, request) if options else None
        code = str(request.path_params["code"])
        key = state.catalog.store_key(kind, {"code": code, "attribute": attribute})
        doc = state.catalog.items[kind].get(key)
        if doc is None:
            raise not_found(kind, code)
        return json_response(doc)

    return handler


def patcher(kind: str, path: str, options: bool = False) -> object:
    async def handler(request: Request) -> Response:
        state = authenticate(request)
        attribute = _option_attribute(state, request) if options else None
        code = str(request.path_params["code"])
        body = await json_body(request)
        status = write_item(state, kind, code, body, attribute=attribute)
        location = url(request, _item_path(path.format(**request.path_params), code))
        return Response(status_code=status, headers={"Location": location})

    return handler


def poster(kind: str, path: str, options: bool = False) -> object:
    async def handler(request: Request) -> Response:
        state = authenticate(request)
        attribute = _option_attribute(state, request) if options else None
        body = await json_body(request)
        code = body.get("code") if isinstance(body, dict) else None
        if not isinstance(code, str) or not code:
            raise ApiError(
                422,
                "Validation failed.",
                errors=[{"property": "code", "message": "This value should not be blank."}],
            )
        status = write_item(state, kind, code, body, attribute=attribute, create_only=True)
        location = url(request, _item_path(path.format(**request.path_params), code))
        return Response(status_code=status, headers={"Location": location})

    return handler


def collection_patcher(kind: str, options: bool = False) -> object:
    async def handler(request: Request) -> Response:
        state = authenticate(request)
        attribute = _option_attribute(state, request) if options else None
        require_collection(request)
        return collection_response(write_lines(state, kind, await request.body(), attribute))

    return handler


async def delete_family(request: Request) -> Response:
    state = authenticate(request)
    code = str(request.path_params["code"])
    if code not in state.catalog.families:
        raise not_found("families", code)
    search = product_query([("family", "IN", [code])], datetime.now(UTC), by_uuid=True)
    if state.store.count_products(search):
        raise ApiError(422, f'Family "{code}" cannot be deleted: products belong to it.')
    delete_item(state, "families", code)
    return Response(status_code=204)


async def measurement_families(request: Request) -> Response:
    state = authenticate(request)
    return json_response(list(state.catalog.measurement_families.values()))


def structure_routes() -> list[Route]:
    routes: list[Route] = []
    for kind, segment in {**WRITABLE, **READ_ONLY_KINDS}.items():
        path = f"/{segment}"
        list_methods = {"GET": lister(kind, path)}
        item_methods = {"GET": getter(kind)}
        if kind in WRITABLE:
            list_methods |= {"POST": poster(kind, path), "PATCH": collection_patcher(kind)}
            item_methods["PATCH"] = patcher(kind, path)
        if kind == "families":
            item_methods["DELETE"] = delete_family
        routes.extend(_routes(PREFIX + path, list_methods, kind))
        routes.extend(_routes(PREFIX + path + "/{code}", item_methods, kind + "_item"))
    options = "/attributes/{attribute_code}/options"
    routes.extend(
        _routes(
            PREFIX + options,
            {
                "GET": lister("attribute_options", options, True),
                "POST": poster("attribute_options", options, True),
                "PATCH": collection_patcher("attribute_options", True),
            },
            "attribute_options",
        )
    )
    routes.extend(
        _routes(
            PREFIX + options + "/{code}",
            {
                "GET": getter("attribute_options", True),
                "PATCH": patcher("attribute_options", options, True),
            },
            "attribute_options_item",
        )
    )
    routes.append(Route(PREFIX + "/measurement-families", measurement_families, methods=["GET"]))
    return routes


def _routes(path: str, handlers: dict[str, object], name: str) -> list[Route]:
    """One Route per path dispatching on method, so unknown methods get 405."""

    async def dispatch(request: Request) -> Response:
        handler = handlers[request.method if request.method != "HEAD" else "GET"]
        response: Response = await handler(request)  # type: ignore[operator]
        return response

    return [Route(path, dispatch, methods=list(handlers), name=name)]
