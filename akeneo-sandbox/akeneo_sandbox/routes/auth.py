"""`POST /api/oauth/v1/token` and the unauthenticated endpoint list."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

from akeneo_sandbox.errors import ApiError
from akeneo_sandbox.http import INVALID_JSON, json_response, media_type, sandbox

MAX_TOKEN_BODY = 300
FORM = "application/x-www-form-urlencoded"


async def token(request: Request) -> Response:
    given = media_type(request)
    if given not in ("application/json", FORM):
        raise ApiError(
            415,
            f'"{given}" in "Content-Type" header is not valid. '
            'Only "application/json" or "application/x-www-form-urlencoded" are allowed.',
        )
    raw = await request.body()
    if len(raw) > MAX_TOKEN_BODY:
        raise ApiError(
            413, f"Request content exceeded the maximum allowed size of {MAX_TOKEN_BODY} bytes"
        )
    state = sandbox(request)
    state.tokens.check_client(request.headers.get("authorization"))
    if given == FORM:
        body: object = dict(parse_qsl(raw.decode("utf-8", errors="replace")))
    else:
        try:
            body = json.loads(raw)
        except ValueError:
            raise ApiError(400, INVALID_JSON) from None
    if not isinstance(body, dict):
        raise ApiError(400, INVALID_JSON)
    return json_response(state.tokens.grant(body))


async def endpoints(request: Request) -> Response:
    """`GET /api/rest/v1`: the list of routes (reduced to what the sandbox serves)."""
    routes = {
        route.name: {"route": route.path, "methods": sorted(route.methods or [])}
        for route in request.app.routes
        if getattr(route, "path", "").startswith("/api/rest/v1/")
    }
    return json_response(
        {
            "host": f"{request.url.scheme}://{request.url.netloc}",
            "authentication": {},
            "routes": routes,
        }
    )
