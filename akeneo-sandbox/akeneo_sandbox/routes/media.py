"""`/media-files`: upload linked to a product or product model, list, metadata, download."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from akeneo_sandbox.catalog import Doc
from akeneo_sandbox.errors import ApiError
from akeneo_sandbox.http import INVALID_JSON, authenticate, json_response, require_json, url
from akeneo_sandbox.media import plain_error
from akeneo_sandbox.paging import page_body, read_page
from akeneo_sandbox.state import Sandbox

MULTIPART = "multipart/form-data"
PATH = "/media-files"
PRODUCT_KEYS = (
    'Product property must contain "identifier", "attribute", "locale" and "scope" properties.'
)
MODEL_KEYS = (
    'Product model property must contain "code", "attribute", "locale" and "scope" properties.'
)


def _field(form: FormData, name: str) -> str | None:
    """A plain form field; PHP puts a part sent as a file into $_FILES, so it is not one."""
    value = form.get(name)
    return value if isinstance(value, str) else None


def _target(raw: str, key: str, message: str) -> dict[str, Any]:
    """The decoded `product`/`product_model` field, checked as Akeneo's controller does."""
    try:
        decoded = json.loads(raw)
    except ValueError:
        decoded = None
    if decoded is None:
        raise ApiError(400, INVALID_JSON)
    if (
        not isinstance(decoded, dict)
        or decoded.get(key) is None
        or decoded.get("attribute") is None
        or "locale" not in decoded
        or "scope" not in decoded
    ):
        raise ApiError(422, message)
    return decoded


def _link(state: Sandbox, to_product: bool, key: str, body: Doc) -> None:
    """Write the value as the product's updater and validator would (the upload saves it)."""
    if to_product:
        state.products.upsert_identifier(key, body)
    else:
        state.product_models.upsert(key, body)


async def upload(request: Request) -> Response:
    state = authenticate(request)
    require_json(request, MULTIPART)
    try:
        form = await request.form()
    except HTTPException:
        # A body PHP cannot split (e.g. no boundary in the header) leaves it no fields at all.
        form = FormData()
    product, model = _field(form, "product"), _field(form, "product_model")
    if product is not None and model is not None:
        raise ApiError(422, 'You should give either a "product" or a "product_model" key.')
    if product is None and model is None:
        raise ApiError(
            422,
            'You should at least give one of the following properties: "product" or '
            '"product_model".',
        )
    if product is not None:
        target = _target(product, "identifier", PRODUCT_KEYS)
        # Looked up by identifier only, also for clients of the uuid routes (as Akeneo does).
        key = str(target["identifier"])
        if state.store.product_by_identifier(key) is None:
            raise ApiError(422, f'Product "{key}" does not exist.')
    else:
        target = _target(str(model), "code", MODEL_KEYS)
        key = str(target["code"])
        if not state.models.exists(key):
            raise ApiError(422, f'Product model "{key}" does not exist.')
    file = form.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        raise ApiError(422, 'Property "file" is required.')
    content = await file.read()
    try:
        # One transaction: a refused value also removes the file it would have stored.
        with state.store.transaction():
            media = state.media.put(file.filename or "", content)
            value = {"locale": target["locale"], "scope": target["scope"], "data": media["code"]}
            _link(state, product is not None, key, {"values": {str(target["attribute"]): [value]}})
    except ApiError as error:
        raise plain_error(error) from None
    return Response(status_code=201, headers={"Location": url(request, f"{PATH}/{media['code']}")})


def _described(request: Request, media: Doc, with_self: bool) -> Doc:
    links: Doc = {}
    if with_self:
        links["self"] = {"href": url(request, f"{PATH}/{media['code']}")}
    links["download"] = {"href": url(request, f"{PATH}/{media['code']}/download")}
    return {"_links": links, **media}


async def list_media(request: Request) -> Response:
    state = authenticate(request)
    page = read_page(request)
    docs = state.media.page(page.limit + 1, page.offset)
    items = [_described(request, d, True) for d in docs[: page.limit]]
    count = state.media.count() if page.with_count else None
    return json_response(page_body(request, PATH, page, items, len(docs) > page.limit, count, {}))


def _not_found(code: str) -> ApiError:
    return ApiError(404, f'Media file "{code}" does not exist.')


async def get_media(request: Request) -> Response:
    state = authenticate(request)
    code = request.path_params["code"]
    media = state.media.info(code)
    if media is None:
        raise _not_found(code)
    return json_response(_described(request, media, False))


async def download(request: Request) -> Response:
    state = authenticate(request)
    code = request.path_params["code"]
    media, content = state.media.info(code), state.media.content(code)
    if media is None or content is None:
        raise _not_found(code)
    return Response(
        content,
        media_type=media["mime_type"],
        headers={"Content-Disposition": _attachment(media["original_filename"])},
    )


def _attachment(name: str) -> str:
    """`attachment; filename="…"` as Akeneo sends it; a non-ASCII name also gets RFC 6266's
    `filename*` (HTTP headers are Latin-1, so the plain form keeps an ASCII fallback)."""
    plain = name.encode("ascii", errors="replace").decode("ascii").replace('"', '\\"')
    header = f'attachment; filename="{plain}"'
    if plain != name:
        header += f"; filename*=UTF-8''{quote(name, safe='')}"
    return header


def media_routes(prefix: str) -> list[Route]:
    # Codes contain slashes: the download route must be tried before the metadata route.
    return [
        Route(f"{prefix}{PATH}", list_media, methods=["GET"]),
        Route(f"{prefix}{PATH}", upload, methods=["POST"]),
        Route(f"{prefix}{PATH}/{{code:path}}/download", download, methods=["GET"]),
        Route(f"{prefix}{PATH}/{{code:path}}", get_media, methods=["GET"]),
    ]
