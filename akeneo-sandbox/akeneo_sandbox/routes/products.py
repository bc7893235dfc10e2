"""Product routes, by identifier (`/products`) and by uuid (`/products-uuid`)."""

from __future__ import annotations

import uuid as uuidlib
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from akeneo_sandbox.associations import presented
from akeneo_sandbox.catalog import Doc
from akeneo_sandbox.errors import ApiError
from akeneo_sandbox.http import (
    authenticate,
    collection_response,
    json_body,
    json_response,
    require_collection,
    url,
)
from akeneo_sandbox.paging import item_links, listing
from akeneo_sandbox.products import valid_uuid
from akeneo_sandbox.search import parse_search, product_query
from akeneo_sandbox.state import Sandbox

KEPT_PARAMS = ("search", "attributes", "locales", "scope")


def _path(by_uuid: bool, key: str = "") -> str:
    base = "/products-uuid" if by_uuid else "/products"
    return f"{base}/{quote(key, safe='')}" if key else base


def present(
    doc: Doc, by_uuid: bool, request: Request | None = None, state: Sandbox | None = None
) -> Doc:
    """A stored product as GET returns it on the given route family (with `state`, its
    associations name products by identifier or uuid, as that family does)."""
    out: Doc = {}
    if request is not None:
        key = doc["uuid"] if by_uuid else doc["identifier"]
        out["_links"] = item_links(request, _path(by_uuid, key))
    if by_uuid:
        out.update((k, v) for k, v in doc.items() if k != "identifier")
    else:
        out.update(doc)
    if request is not None:
        out["values"] = filter_values(request, out["values"])
    if state is not None:
        out.update(presented(doc, state.catalog, state.store, by_uuid))
    return out


def filter_values(request: Request, values: dict[str, Any]) -> dict[str, Any]:
    attributes = request.query_params.get("attributes")
    locales = request.query_params.get("locales")
    scope = request.query_params.get("scope")
    if not (attributes or locales or scope):
        return values
    wanted = set(attributes.split(",")) if attributes else None
    wanted_locales = set(locales.split(",")) if locales else None
    kept: dict[str, Any] = {}
    for code, entries in values.items():
        if wanted is not None and code not in wanted:
            continue
        chosen = [
            e
            for e in entries
            if (wanted_locales is None or e["locale"] is None or e["locale"] in wanted_locales)
            and (scope is None or e["scope"] is None or e["scope"] == scope)
        ]
        if chosen:
            kept[code] = chosen
    return kept


def _not_found(key: str) -> ApiError:
    return ApiError(
        404, f'Product "{key}" does not exist or you do not have permission to access it.'
    )


def _find(state: Sandbox, by_uuid: bool, key: str) -> Doc:
    if by_uuid:
        canonical = valid_uuid(key)
        doc = state.store.product_by_uuid(canonical) if canonical else None
    else:
        doc = state.store.product_by_identifier(key)
    if doc is None:
        raise _not_found(key)
    return doc


async def _list(request: Request, by_uuid: bool) -> Response:
    state = authenticate(request)
    now = datetime.fromtimestamp(state.clock(), UTC)
    query = product_query(parse_search(request.query_params.get("search")), now, by_uuid)
    keep = {k: request.query_params[k] for k in KEPT_PARAMS if k in request.query_params}
    order = "uuid" if by_uuid else "identifier"

    def fetch(limit: int, offset: int, after: str | None) -> list[Doc]:
        return state.store.list_products(query, order, limit, offset=offset, after=after)

    def shown(doc: Doc) -> Doc:
        return present(state.models.with_ancestors(doc), by_uuid, request, state)

    def count() -> int:
        return state.store.count_products(query)

    return json_response(listing(request, _path(by_uuid), keep, order, fetch, count, shown))


async def list_products(request: Request) -> Response:
    return await _list(request, by_uuid=False)


async def list_products_uuid(request: Request) -> Response:
    return await _list(request, by_uuid=True)


async def get_product(request: Request) -> Response:
    state = authenticate(request)
    doc = _find(state, False, request.path_params["code"])
    return json_response(present(state.models.with_ancestors(doc), False, state=state))


async def get_product_uuid(request: Request) -> Response:
    state = authenticate(request)
    doc = _find(state, True, request.path_params["uuid"])
    return json_response(present(state.models.with_ancestors(doc), True, state=state))


def _written(request: Request, status: int, by_uuid: bool, key: str) -> Response:
    location = url(request, _path(by_uuid, key))
    return Response(status_code=status, headers={"Location": location})


async def patch_product(request: Request) -> Response:
    state = authenticate(request)
    code = request.path_params["code"]
    body = await json_body(request)
    with state.store.transaction():
        status = state.products.upsert_identifier(code, body)
    return _written(request, status, False, code)


async def patch_product_uuid(request: Request) -> Response:
    state = authenticate(request)
    uuid = request.path_params["uuid"]
    body = await json_body(request)
    with state.store.transaction():
        status = state.products.upsert_uuid(uuid, body)
    return _written(request, status, True, uuid.lower())


async def post_product(request: Request) -> Response:
    state = authenticate(request)
    body = await json_body(request)
    identifier = body.get("identifier") if isinstance(body, dict) else None
    if not isinstance(identifier, str) or not identifier.strip():
        raise ApiError(
            422,
            "Validation failed.",
            errors=[
                {"property": "identifier", "message": "The identifier attribute cannot be empty."}
            ],
        )
    with state.store.transaction():
        status = state.products.upsert_identifier(identifier, body, create_only=True)
    return _written(request, status, False, identifier)


async def post_product_uuid(request: Request) -> Response:
    state = authenticate(request)
    body = await json_body(request)
    uuid = body.get("uuid") if isinstance(body, dict) else None
    if uuid is None:
        uuid = str(uuidlib.uuid4())
    if not isinstance(uuid, str):
        raise ApiError(422, "Uuid must be of type string.")
    with state.store.transaction():
        status = state.products.upsert_uuid(uuid, body, create_only=True)
    return _written(request, status, True, uuid.lower())


async def patch_products(request: Request) -> Response:
    state = authenticate(request)
    require_collection(request)
    lines = state.products.upsert_lines(await request.body(), "identifier")
    return collection_response(lines)


async def patch_products_uuid(request: Request) -> Response:
    state = authenticate(request)
    require_collection(request)
    lines = state.products.upsert_lines(await request.body(), "uuid")
    return collection_response(lines)


async def delete_product(request: Request) -> Response:
    state = authenticate(request)
    doc = _find(state, False, request.path_params["code"])
    state.store.delete_product(doc["uuid"])
    return Response(status_code=204)


async def delete_product_uuid(request: Request) -> Response:
    state = authenticate(request)
    doc = _find(state, True, request.path_params["uuid"])
    state.store.delete_product(doc["uuid"])
    return Response(status_code=204)
