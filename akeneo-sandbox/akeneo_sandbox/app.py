"""The Starlette application: routes, error handlers, and the stats, load and fault layers."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from akeneo_sandbox.config import Settings
from akeneo_sandbox.errors import ApiError
from akeneo_sandbox.faults import RAW_SEND, FaultMiddleware
from akeneo_sandbox.http import error_response, json_response
from akeneo_sandbox.load import LoadMiddleware
from akeneo_sandbox.routes import admin, auth, products
from akeneo_sandbox.routes.media import media_routes
from akeneo_sandbox.routes.models import model_routes
from akeneo_sandbox.routes.structure import structure_routes
from akeneo_sandbox.routes.ui import ui_routes
from akeneo_sandbox.state import Sandbox
from akeneo_sandbox.stats import StatsMiddleware

LOG = logging.getLogger("akeneo_sandbox")
V1 = "/api/rest/v1"


def _routes() -> list[Route]:
    return [
        Route("/api/oauth/v1/token", auth.token, methods=["POST"]),
        Route(V1, auth.endpoints, methods=["GET"]),
        Route(f"{V1}/products", products.list_products, methods=["GET"]),
        Route(f"{V1}/products", products.patch_products, methods=["PATCH"]),
        Route(f"{V1}/products", products.post_product, methods=["POST"]),
        Route(f"{V1}/products/{{code}}", products.get_product, methods=["GET"]),
        Route(f"{V1}/products/{{code}}", products.patch_product, methods=["PATCH"]),
        Route(f"{V1}/products/{{code}}", products.delete_product, methods=["DELETE"]),
        Route(f"{V1}/products-uuid", products.list_products_uuid, methods=["GET"]),
        Route(f"{V1}/products-uuid", products.patch_products_uuid, methods=["PATCH"]),
        Route(f"{V1}/products-uuid", products.post_product_uuid, methods=["POST"]),
        Route(f"{V1}/products-uuid/{{uuid}}", products.get_product_uuid, methods=["GET"]),
        Route(f"{V1}/products-uuid/{{uuid}}", products.patch_product_uuid, methods=["PATCH"]),
        Route(f"{V1}/products-uuid/{{uuid}}", products.delete_product_uuid, methods=["DELETE"]),
        *structure_routes(),
        *media_routes(V1),
        *model_routes(),
        Route("/sandbox/stats", admin.stats, methods=["GET"]),
        Route("/sandbox/reset", admin.reset, methods=["POST"]),
        *ui_routes(),
    ]


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    target = f"{request.method} {request.url.path}"
    if exc.status_code == 405:
        allow = (exc.headers or {}).get("Allow", "")
        message = f'No route found for "{target}": Method Not Allowed (Allow: {allow})'
        return json_response({"code": 405, "message": message}, 405, {"Allow": allow})
    if exc.status_code == 404:
        return json_response({"code": 404, "message": f'No route found for "{target}"'}, 404)
    return json_response({"code": exc.status_code, "message": exc.detail}, exc.status_code)


async def _unexpected(request: Request, exc: Exception) -> Response:
    LOG.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return json_response({"code": 500, "message": "Internal Server Error"}, 500)


class SandboxApp(Starlette):
    """Starlette app that hands the server's own `send` to the fault layer (dropped links)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope[RAW_SEND] = send
        await super().__call__(scope, receive, send)


def create_app(settings: Settings, clock: Callable[[], float] = time.time) -> Starlette:
    """Build the application and its state (database, catalog, tokens) from settings."""
    state = Sandbox(settings, clock)
    routes = _routes()
    templates = [(route.path_regex, route.path) for route in routes]
    app = SandboxApp(
        routes=routes,
        middleware=[
            Middleware(StatsMiddleware, stats=state.stats, templates=templates),
            Middleware(
                LoadMiddleware, limiter=state.limiter, latency=state.latency, stats=state.stats
            ),
            Middleware(
                FaultMiddleware,
                injector=state.faults,
                slow_seconds=lambda: settings.slow_seconds,
                on_fault=state.stats.fault,
            ),
        ],
        exception_handlers={
            ApiError: _api_error,
            HTTPException: _http_error,
            Exception: _unexpected,
        },
    )
    app.state.sandbox = state
    return app
