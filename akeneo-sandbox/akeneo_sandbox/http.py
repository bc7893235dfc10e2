"""Request and response helpers shared by the routes: JSON bodies, content types, links."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from akeneo_sandbox.errors import ApiError
from akeneo_sandbox.state import Sandbox

JSON = "application/json"
COLLECTION = "application/vnd.akeneo.collection+json"
INVALID_JSON = "Invalid json message received"


def sandbox(request: Request) -> Sandbox:
    state: Sandbox = request.app.state.sandbox
    return state


def authenticate(request: Request) -> Sandbox:
    state = sandbox(request)
    state.tokens.check_bearer(request.headers.get("authorization"))
    return state


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return Response(body, status_code=status, media_type=JSON, headers=headers)


def error_response(error: ApiError) -> Response:
    return json_response(error.body(), error.status, error.headers)


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def require_json(request: Request, expected: str = JSON) -> None:
    """POST/PATCH of one resource need `Content-Type: application/json` (415 otherwise);
    uploads need `expected="multipart/form-data"`."""
    given = media_type(request)
    if not given:
        raise ApiError(
            415,
            f"The 'Content-type' header is missing. '{expected}' has to specified as value.",
        )
    if given != expected:
        raise ApiError(
            415,
            f'"{given}" in "Content-Type" header is not valid. Only "{expected}" is allowed.',
        )


def require_collection(request: Request) -> None:
    given = media_type(request)
    if given != COLLECTION:
        raise ApiError(
            415,
            f'"{given}" in "Content-Type" header is not valid. Only "{COLLECTION}" is allowed.',
        )


async def json_body(request: Request) -> Any:
    require_json(request)
    raw = await request.body()
    try:
        return json.loads(raw)
    except ValueError:
        raise ApiError(400, INVALID_JSON) from None


async def json_object(request: Request) -> dict[str, Any]:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise ApiError(400, INVALID_JSON)
    return body


def base_url(request: Request) -> str:
    """Absolute URLs are built from the Host the client used, as Akeneo does."""
    return f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"


def url(request: Request, path: str, params: dict[str, Any] | None = None) -> str:
    query = f"?{urlencode(params)}" if params else ""
    return f"{base_url(request)}/api/rest/v1{path}{query}"


def collection_response(lines: list[dict[str, Any]]) -> Response:
    """Line results joined by newlines, no trailing newline, HTTP 200 even when lines failed."""
    body = "\n".join(json.dumps(line, ensure_ascii=False, separators=(",", ":")) for line in lines)
    return Response(body, status_code=200, media_type=COLLECTION)
