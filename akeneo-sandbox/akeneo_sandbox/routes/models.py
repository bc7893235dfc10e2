"""Routes of product models (`/product-models`) and family variants
(`/families/{family_code}/variants`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from akeneo_sandbox.associations import presented
from akeneo_sandbox.catalog import READ_ONLY, Doc, normalize_item
from akeneo_sandbox.errors import (
    ApiError,
    expects,
    format_error,
    url_mismatch,
    validation_failed,
)
from akeneo_sandbox.http import (
    authenticate,
    collection_response,
    json_body,
    json_response,
    require_collection,
    url,
)
from akeneo_sandbox.models import CODE_NOT_STRING
from akeneo_sandbox.paging import item_links, listing, page_body, read_page
from akeneo_sandbox.products import INVALID_JSON
from akeneo_sandbox.routes.products import KEPT_PARAMS, filter_values
from akeneo_sandbox.search import parse_search, product_model_query
from akeneo_sandbox.state import Sandbox
from akeneo_sandbox.structure import code_lines, not_found
from akeneo_sandbox.variants import NOT_OBJECTS, SETS, merge_sets, variant_violations

V1 = "/api/rest/v1"
KIND = "family_variants"
VARIANT_FIELDS = ("code", "labels", SETS)
# `common_attributes` is in the spec's read format; a client may echo it back.
VARIANT_IGNORED = READ_ONLY | {"common_attributes"}


# --- product models --------------------------------------------------------------------------


def _model_path(code: str = "") -> str:
    return f"/product-models/{quote(code, safe='')}" if code else "/product-models"


def _model(state: Sandbox, code: str) -> Doc:
    doc = state.models.get(code)
    if doc is None:
        raise ApiError(
            404,
            f'Product model "{code}" does not exist or you do not have permission to access it.',
        )
    return _shown_model(state, doc)


def _shown_model(state: Sandbox, doc: Doc) -> Doc:
    """A stored model as GET shows it: values with its ancestors', and associations naming
    products by identifier, every association type listed (as on `/products`)."""
    full = state.models.with_ancestors(doc)
    return {**full, **presented(full, state.catalog, state.store, by_uuid=False)}


async def list_models(request: Request) -> Response:
    state = authenticate(request)
    now = datetime.fromtimestamp(state.clock(), UTC)
    query = product_model_query(parse_search(request.query_params.get("search")), now)
    keep = {k: request.query_params[k] for k in KEPT_PARAMS if k in request.query_params}

    def fetch(limit: int, offset: int, after: str | None) -> list[Doc]:
        return state.models.list(query, limit, offset=offset, after=after)

    def count() -> int:
        return state.models.count(query)

    def shown(doc: Doc) -> Doc:
        full = _shown_model(state, doc)
        links = item_links(request, _model_path(doc["code"]))
        return {"_links": links, **full, "values": filter_values(request, full["values"])}

    return json_response(listing(request, _model_path(), keep, "code", fetch, count, shown))


async def get_model(request: Request) -> Response:
    state = authenticate(request)
    return json_response(_model(state, request.path_params["code"]))


async def delete_model(request: Request) -> Response:
    state = authenticate(request)
    code = request.path_params["code"]
    _model(state, code)
    state.models.delete(code)
    return Response(status_code=204)


def _written(request: Request, status: int, path: str) -> Response:
    return Response(status_code=status, headers={"Location": url(request, path)})


async def patch_model(request: Request) -> Response:
    state = authenticate(request)
    code = request.path_params["code"]
    body = await json_body(request)
    with state.store.transaction():
        status = state.product_models.upsert(code, body)
    return _written(request, status, _model_path(code))


async def post_model(request: Request) -> Response:
    state = authenticate(request)
    body = await json_body(request)
    code = body.get("code") if isinstance(body, dict) else None
    if code is None or code == "":
        message = "The product model code must not be empty."
        raise validation_failed([{"property": "code", "message": message}])
    if not isinstance(code, str):
        raise ApiError(422, CODE_NOT_STRING)
    with state.store.transaction():
        status = state.product_models.upsert(code, body, create_only=True)
    return _written(request, status, _model_path(code))


async def patch_models(request: Request) -> Response:
    state = authenticate(request)
    require_collection(request)
    body = await request.body()
    with state.store.transaction():
        lines = code_lines(body, state.product_models.upsert)
    return collection_response(lines)


# --- family variants -------------------------------------------------------------------------


def _variants_path(family: str, code: str = "") -> str:
    base = f"/families/{quote(family, safe='')}/variants"
    return f"{base}/{quote(code, safe='')}" if code else base


def _family(state: Sandbox, request: Request) -> str:
    family = str(request.path_params["family_code"])
    if family not in state.catalog.families:
        raise not_found("families", family)
    return family


def _variant(state: Sandbox, family: str, code: str) -> Doc | None:
    doc = state.catalog.items[KIND].get(code)
    if doc is not None and doc["family"] != family:
        raise ApiError(
            404,
            f'Family variant "{code}" does not exist or is not a variant of the family "{family}".',
        )
    return doc


def shown_variant(doc: Doc) -> Doc:
    """The API answer has no `family` (it is in the URL), as Akeneo's E2E tests show."""
    return {k: v for k, v in doc.items() if k != "family"}


async def list_variants(request: Request) -> Response:
    state = authenticate(request)
    family = _family(state, request)
    page = read_page(request)
    docs = [d for d in state.catalog.items[KIND].values() if d["family"] == family]
    items = [
        {"_links": item_links(request, _variants_path(family, d["code"])), **shown_variant(d)}
        for d in docs[page.offset : page.offset + page.limit]
    ]
    count = len(docs) if page.with_count else None
    has_next = page.offset + page.limit < len(docs)
    path = _variants_path(family)
    return json_response(page_body(request, path, page, items, has_next, count, {}))


async def get_variant(request: Request) -> Response:
    state = authenticate(request)
    family = _family(state, request)
    code = str(request.path_params["code"])
    doc = _variant(state, family, code)
    if doc is None:
        raise ApiError(
            404,
            f'Family variant "{code}" does not exist or is not a variant of the family "{family}".',
        )
    return json_response(shown_variant(doc))


def write_variant(
    state: Sandbox, family: str, code: str, body: Any, create_only: bool = False
) -> int:
    """Create (201) or update (204) a family variant of `family` (from the URL only)."""
    anchor = (
        "post_families__family_code__variants"
        if create_only
        else "patch_families__family_code__variants__code__"
    )
    if not isinstance(body, dict):
        raise ApiError(400, INVALID_JSON)
    given = body.get("code", code)
    if given != code:
        raise url_mismatch("code", given, code)
    for key, value in body.items():
        if key not in VARIANT_FIELDS and key not in VARIANT_IGNORED:
            raise format_error(f'Property "{key}" does not exist.', anchor)
        if key == "labels" and not isinstance(value, dict):
            raise format_error(expects("labels", "an array", value), anchor)
        if key == SETS and not (
            isinstance(value, list) and all(isinstance(s, dict) for s in value)
        ):
            raise format_error(NOT_OBJECTS, anchor)
    existing = _variant(state, family, code)
    if existing is not None and create_only:
        # Akeneo's unique-code message for family variants is not in the sources read.
        raise validation_failed([{"property": "code", "message": "This value is already used."}])
    violations = []
    labels = {**(existing or {}).get("labels", {}), **body.get("labels", {})}
    sets = body.get(SETS, [])
    if existing is not None:
        sets, violations = (
            merge_sets(existing[SETS], sets, anchor) if SETS in body else (existing[SETS], [])
        )
    item = {"code": code, "labels": labels, "family": family, SETS: sets}
    doc = normalize_item(KIND, item, state.catalog)
    violations += variant_violations(doc, state.catalog)
    if violations:
        raise validation_failed(violations)
    state.catalog.put(KIND, doc)
    state.store.save_item(KIND, code, doc)
    return 201 if existing is None else 204


async def patch_variant(request: Request) -> Response:
    state = authenticate(request)
    family = _family(state, request)
    code = str(request.path_params["code"])
    status = write_variant(state, family, code, await json_body(request))
    return _written(request, status, _variants_path(family, code))


async def post_variant(request: Request) -> Response:
    state = authenticate(request)
    family = _family(state, request)
    body = await json_body(request)
    code = body.get("code") if isinstance(body, dict) else None
    if not isinstance(code, str) or not code:
        raise validation_failed(
            [{"property": "code", "message": "This value should not be blank."}]
        )
    status = write_variant(state, family, code, body, create_only=True)
    return _written(request, status, _variants_path(family, code))


async def patch_variants(request: Request) -> Response:
    state = authenticate(request)
    family = _family(state, request)
    require_collection(request)
    body = await request.body()
    return collection_response(
        code_lines(body, lambda code, item: write_variant(state, family, code, item))
    )


def model_routes() -> list[Route]:
    variants = f"{V1}/families/{{family_code}}/variants"
    return [
        Route(f"{V1}/product-models", list_models, methods=["GET"]),
        Route(f"{V1}/product-models", patch_models, methods=["PATCH"]),
        Route(f"{V1}/product-models", post_model, methods=["POST"]),
        Route(f"{V1}/product-models/{{code}}", get_model, methods=["GET"]),
        Route(f"{V1}/product-models/{{code}}", patch_model, methods=["PATCH"]),
        Route(f"{V1}/product-models/{{code}}", delete_model, methods=["DELETE"]),
        Route(variants, list_variants, methods=["GET"]),
        Route(variants, post_variant, methods=["POST"]),
        Route(variants, patch_variants, methods=["PATCH"]),
        Route(f"{variants}/{{code}}", get_variant, methods=["GET"]),
        Route(f"{variants}/{{code}}", patch_variant, methods=["PATCH"]),
    ]
