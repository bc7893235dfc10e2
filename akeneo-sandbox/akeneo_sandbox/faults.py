"""Fault injection around /api routes: 429, 5xx, dropped connections and slow answers.

The decision is drawn before the handler runs, from a seeded RNG, so a faulted write never
changes data; `slow` and half of the `reset`s run the handler first, like real failures that
happen after the PIM has stored the products (the client cannot know the outcome).
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from akeneo_sandbox.errors import SettingsError

STATUS_FAULTS = {
    "429": "You have exceeded the limit of API requests per second.",
    "500": "Internal Server Error",
    "502": "Bad Gateway",
    "503": "Service Unavailable",
    "504": "Gateway Timeout",
}
KINDS = (*STATUS_FAULTS, "reset", "slow")
RAW_SEND = "akeneo_sandbox.raw_send"


@dataclass(frozen=True)
class FaultSpec:
    """Probability per API request of each fault kind, in the order of KINDS."""

    rates: tuple[tuple[str, float], ...] = ()

    def __str__(self) -> str:
        return ",".join(f"{kind}={rate:g}" for kind, rate in self.rates) or "none"


def parse_faults(text: str | None) -> FaultSpec:
    """Parse `429=0.05,500=0.02,reset=0.01,slow=0.02`; errors name the --faults item."""
    if text is None or text.strip() in ("", "none"):
        return FaultSpec()
    rates: dict[str, float] = {}
    for item in text.split(","):
        kind, sep, value = item.strip().partition("=")
        if kind not in KINDS or not sep:
            kinds = ", ".join(KINDS)
            raise SettingsError(
                f"--faults: {item.strip()!r} is not KIND=PROBABILITY with KIND one of {kinds}"
            )
        try:
            rate = float(value)
        except ValueError:
            rate = -1.0
        if not 0.0 <= rate <= 1.0:
            raise SettingsError(
                f"--faults: {kind} needs a probability between 0 and 1, got {value!r}"
            )
        rates[kind] = rate
    if sum(rates.values()) > 1.0:
        raise SettingsError("--faults: the probabilities add up to more than 1")
    return FaultSpec(tuple((kind, rates[kind]) for kind in KINDS if kind in rates))


class FaultInjector:
    """Draws one fault (or none) per API request, reproducibly for a given seed."""

    def __init__(self, spec: FaultSpec, seed: int) -> None:
        self.spec = spec
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def reseed(self, seed: int) -> None:
        with self._lock:
            self._rng.seed(seed)

    def draw(self) -> tuple[str | None, bool]:
        """The fault kind and a coin flip for its variant (Retry-After, reset after handler)."""
        if not self.spec.rates:
            return None, False
        with self._lock:
            roll, variant = self._rng.random(), self._rng.random() < 0.5
        total = 0.0
        for kind, rate in self.spec.rates:
            total += rate
            if roll < total:
                return kind, variant
        return None, False


async def drop_connection(scope: Scope) -> None:
    """Close the client connection without any answer (the server's raw send is in scope)."""
    raw_send = scope.get(RAW_SEND)
    cycle = getattr(raw_send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        # In-process test clients have no socket: surface the drop as the error a client sees.
        raise ConnectionResetError("akeneo-sandbox dropped the connection (injected fault)")
    transport.abort()
    # uvicorn marks the cycle disconnected, so it does not send its own 500 afterwards.
    cycle.disconnected = True  # type: ignore[union-attr]
    await asyncio.sleep(0)


class FaultMiddleware:
    """ASGI middleware applying the injector's decision to every /api request."""

    def __init__(
        self,
        app: ASGIApp,
        injector: FaultInjector,
        slow_seconds: Callable[[], float],
        on_fault: Callable[[str], None],
    ) -> None:
        self.app = app
        self.injector = injector
        self.slow_seconds = slow_seconds
        self.on_fault = on_fault

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        kind, variant = self.injector.draw()
        if kind is None:
            await self.app(scope, receive, send)
            return
        self.on_fault(kind)
        if kind in STATUS_FAULTS:
            await error_answer(send, int(kind), STATUS_FAULTS[kind], retry_after=variant)
        elif kind == "slow":
            await self._slow(scope, receive, send)
        else:
            if variant:
                await self.app(scope, receive, _discard)
            await drop_connection(scope)

    async def _slow(self, scope: Scope, receive: Receive, send: Send) -> None:
        await answer_late(self.app, scope, receive, send, lambda held: self.slow_seconds())


async def answer_late(
    app: ASGIApp,
    scope: Scope,
    receive: Receive,
    send: Send,
    delay: Callable[[list[Message]], float],
) -> None:
    """Run the handler, then hold its answer for `delay(answer messages)` seconds."""
    held: list[Message] = []

    async def hold(message: Message) -> None:
        held.append(message)

    await app(scope, receive, hold)
    await asyncio.sleep(delay(held))
    for message in held:
        await send(message)


async def _discard(message: Message) -> None:
    return None


async def error_answer(send: Send, status: int, message: str, retry_after: bool) -> None:
    """Akeneo's error body; a 429 carries `Retry-After: 1` when `retry_after` is set."""
    body = json.dumps({"code": status, "message": message}).encode()
    headers: list[tuple[bytes, bytes]] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if status == 429 and retry_after:
        headers.append((b"retry-after", b"1"))
    start: dict[str, Any] = {"type": "http.response.start", "status": status, "headers": headers}
    await send(start)
    await send({"type": "http.response.body", "body": body})
