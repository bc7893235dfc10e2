"""Request statistics for `GET /sandbox/stats`, recorded by an outermost ASGI middleware."""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Injected dropped connections have no HTTP status; they are counted under this one.
DROPPED = 0


class Stats:
    """Counters by (method, route template, status), product and product model writes, faults
    and load."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: Counter[tuple[str, str, int]] = Counter()
        # Seconds from receiving each request to sending its last byte, by the same key.
        self._served: dict[tuple[str, str, int], float] = {}
        self._faults: Counter[str] = Counter()
        self._written = 0
        self._limited: Counter[str] = Counter()
        self._peak = 0
        self._delayed = Counter({"requests": 0, "lines": 0})
        self._delay_seconds = 0.0
        self._models_written = 0
        self._dropped = 0

    def clear(self) -> None:
        with self._lock:
            self._requests.clear()
            self._served.clear()
            self._faults.clear()
            self._written = 0
            self._limited.clear()
            self._peak = 0
            self._delayed = Counter({"requests": 0, "lines": 0})
            self._delay_seconds = 0.0
            self._models_written = 0
            self._dropped = 0

    def request(self, method: str, route: str, status: int, seconds: float = 0.0) -> None:
        key = (method, route, status)
        with self._lock:
            self._requests[key] += 1
            self._served[key] = self._served.get(key, 0.0) + seconds

    def fault(self, kind: str) -> None:
        with self._lock:
            self._faults[kind] += 1

    def product_written(self) -> None:
        with self._lock:
            self._written += 1

    def limited(self, limit: str) -> None:
        """A 429 from `--limits` (`concurrent` or `rate`), kept apart from injected faults."""
        with self._lock:
            self._limited[limit] += 1

    def in_flight(self, count: int) -> None:
        with self._lock:
            self._peak = max(self._peak, count)

    def delayed(self, lines: int, seconds: float) -> None:
        with self._lock:
            self._delayed.update(requests=1, lines=lines)
            self._delay_seconds += seconds

    def product_model_written(self) -> None:
        with self._lock:
            self._models_written += 1

    def values_dropped(self, count: int) -> None:
        """Values of another variation level that an accepted write dropped (models.py)."""
        with self._lock:
            self._dropped += count

    def snapshot(self, products_total: int, product_models_total: int = 0) -> dict[str, Any]:
        with self._lock:
            requests = [
                {"method": method, "route": route, "status": status, "count": count}
                for (method, route, status), count in sorted(self._requests.items())
            ]
            served = [
                {"method": method, "route": route, "status": status, "seconds": round(total, 6)}
                for (method, route, status), total in sorted(self._served.items())
            ]
            return {
                "requests_total": sum(self._requests.values()),
                "requests": requests,
                "served_seconds": served,
                "products_written": self._written,
                "products_total": products_total,
                "product_models_written": self._models_written,
                "product_models_total": product_models_total,
                "values_dropped": self._dropped,
                "faults_injected": dict(sorted(self._faults.items())),
                "limits_rejected": dict(sorted(self._limited.items())),
                "in_flight_peak": self._peak,
                "latency_added": {**self._delayed, "seconds": round(self._delay_seconds, 6)},
            }


class StatsMiddleware:
    """Counts every request outside /sandbox by its route template and final status, and the
    time the sandbox held it (received to answered: handler, latency, limits), the time a
    client's slot is busy on the PIM's side."""

    def __init__(
        self, app: ASGIApp, stats: Stats, templates: Sequence[tuple[re.Pattern[str], str]]
    ) -> None:
        self.app = app
        self.stats = stats
        self.templates = templates

    def route_of(self, path: str) -> str:
        for regex, template in self.templates:
            if regex.match(path):
                return template
        return "(unknown route)"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/sandbox/"):
            await self.app(scope, receive, send)
            return
        status = DROPPED
        started = time.perf_counter()

        async def record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, record)
        except ConnectionResetError:
            raise
        except Exception:
            status = status or 500
            raise
        finally:
            seconds = time.perf_counter() - started
            self.stats.request(scope["method"], self.route_of(scope["path"]), status, seconds)
