"""Admin routes outside /api: statistics and reset. No authentication, never faulted."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from akeneo_sandbox.http import json_response, sandbox


async def stats(request: Request) -> Response:
    state = sandbox(request)
    totals = state.store.count_products(), state.models.count()
    return json_response(state.stats.snapshot(*totals))


async def reset(request: Request) -> Response:
    sandbox(request).reset()
    return Response(status_code=204)
