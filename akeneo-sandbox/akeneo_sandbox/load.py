"""A loaded PIM on demand: server-side latency and Akeneo's limits around /api routes.

`--latency` holds each answer for a delay per request plus one per line of a collection PATCH,
with asyncio.sleep, so concurrent requests overlap as they do on a real PIM. `--limits` answers
Akeneo's 429 to a request beyond the connection's calls in flight or requests per second. The
sandbox serves one API connection (`--client-id`), so every /api request counts against it.
"""

from __future__ import annotations

import random
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from akeneo_sandbox.errors import SettingsError
from akeneo_sandbox.faults import STATUS_FAULTS, answer_late, error_answer
from akeneo_sandbox.stats import Stats

LATENCY_KEYS = ("request", "line", "jitter")
LIMIT_KEYS = ("concurrent", "rate")
DURATION = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ms|s)")
WINDOW = 1.0  # seconds over which `rate` requests are allowed


@dataclass(frozen=True)
class LatencySpec:
    """Seconds per request and per collection line; jitter j scales by a factor in [1-j, 1+j]."""

    request: float = 0.0
    line: float = 0.0
    jitter: float = 0.0

    @property
    def active(self) -> bool:
        return self.request > 0 or self.line > 0


@dataclass(frozen=True)
class LimitSpec:
    """Requests in flight per connection and requests per second; None is unlimited."""

    concurrent: int | None = None
    rate: int | None = None


def _items(flag: str, text: str | None, keys: tuple[str, ...]) -> dict[str, str]:
    """`KEY=VALUE,...` with each KEY from `keys` at most once; empty or `none` is no item."""
    if text is None or text.strip() in ("", "none"):
        return {}
    items: dict[str, str] = {}
    for item in text.split(","):
        key, sep, value = (part.strip() for part in item.partition("="))
        if key not in keys or not sep or not value:
            raise SettingsError(
                f"{flag}: {item.strip()!r} is not KEY=VALUE with KEY one of {', '.join(keys)}"
            )
        if key in items:
            raise SettingsError(f"{flag}: {key} is given twice")
        items[key] = value
    return items


def _seconds(key: str, value: str) -> float:
    match = DURATION.fullmatch(value)
    if match is None:
        raise SettingsError(
            f"--latency: {key} needs a duration such as 80ms or 1.5s, got {value!r}"
        )
    number, unit = match.groups()
    return float(number) / 1000 if unit == "ms" else float(number)


def parse_latency(text: str | None) -> LatencySpec:
    """Parse `request=80ms,line=10ms,jitter=0.2`; errors name the --latency item."""
    items = _items("--latency", text, LATENCY_KEYS)
    jitter = 0.0
    if "jitter" in items:
        try:
            jitter = float(items["jitter"])
        except ValueError:
            jitter = -1.0
        if not 0.0 <= jitter <= 1.0:
            raise SettingsError(
                f"--latency: jitter needs a number between 0 and 1, got {items['jitter']!r}"
            )
    return LatencySpec(
        request=_seconds("request", items["request"]) if "request" in items else 0.0,
        line=_seconds("line", items["line"]) if "line" in items else 0.0,
        jitter=jitter,
    )


def parse_limits(text: str | None) -> LimitSpec:
    """Parse `concurrent=4,rate=100`; errors name the --limits item."""
    counts: dict[str, int] = {}
    for key, value in _items("--limits", text, LIMIT_KEYS).items():
        if not (value.isascii() and value.isdigit()) or int(value) < 1:
            raise SettingsError(
                f"--limits: {key} needs a whole number of at least 1, got {value!r}"
            )
        counts[key] = int(value)
    return LimitSpec(concurrent=counts.get("concurrent"), rate=counts.get("rate"))


class Latency:
    """Each answer's delay; the jitter factor comes from an RNG seeded by --seed."""

    def __init__(self, spec: LatencySpec, seed: int) -> None:
        self.spec = spec
        # Its own stream, so turning latency on does not change the fault sequence.
        self._rng = random.Random(f"{seed}:latency")

    def reseed(self, seed: int) -> None:
        self._rng.seed(f"{seed}:latency")

    def delay(self, lines: int) -> float:
        base = self.spec.request + self.spec.line * lines
        jitter = self.spec.jitter
        return base * self._rng.uniform(1 - jitter, 1 + jitter) if jitter else base


class Limiter:
    """Admits a request unless `concurrent` are in flight or `rate` began in the last second.

    Only admitted requests count in either limit, so a client that backs off gets through.
    All calls come from the server's one event loop, hence no lock.
    """

    def __init__(
        self, spec: LimitSpec, seed: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.spec = spec
        self.in_flight = 0
        self._clock = clock
        self._started: deque[float] = deque()
        self._rng = random.Random(f"{seed}:limits")

    def reset(self, seed: int) -> None:
        """Forget the last second's requests (those in flight still finish) and reseed."""
        self._started.clear()
        self._rng.seed(f"{seed}:limits")

    def admit(self) -> str | None:
        """None when admitted (then in flight until `release`), else the limit hit."""
        if self.spec.concurrent is not None and self.in_flight >= self.spec.concurrent:
            return "concurrent"
        if self.spec.rate is not None:
            now = self._clock()
            while self._started and self._started[0] <= now - WINDOW:
                self._started.popleft()
            if len(self._started) >= self.spec.rate:
                return "rate"
            self._started.append(now)
        self.in_flight += 1
        return None

    def release(self) -> None:
        self.in_flight -= 1

    def retry_after(self) -> bool:
        """Half of the 429s carry Retry-After, as Akeneo's may lack it (API-FACTS §9)."""
        return self._rng.random() < 0.5


def collection_lines(method: str, answer: list[Message]) -> int:
    """Line results in an answer: a PATCH answered 200 is a collection PATCH, one per line."""
    if method != "PATCH" or not answer or answer[0].get("status") != 200:
        return 0
    body = b"".join(m.get("body", b"") for m in answer if m["type"] == "http.response.body")
    return body.count(b"\n") + 1 if body else 0


class LoadMiddleware:
    """Around each /api request: Akeneo's 429 over the limits, else the answer after its delay.

    The delay runs after the handler (the write is done) and counts as time in flight.
    """

    def __init__(self, app: ASGIApp, limiter: Limiter, latency: Latency, stats: Stats) -> None:
        self.app = app
        self.limiter = limiter
        self.latency = latency
        self.stats = stats

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope["path"]).startswith("/api/"):
            await self.app(scope, receive, send)
            return
        exceeded = self.limiter.admit()
        if exceeded is not None:
            self.stats.limited(exceeded)
            retry_after = self.limiter.retry_after()
            await error_answer(send, 429, STATUS_FAULTS["429"], retry_after=retry_after)
            return
        self.stats.in_flight(self.limiter.in_flight)
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                self.limiter.release()

        async def forward(message: Message) -> None:
            # The slot is free before the last byte leaves: a client that sends its next
            # request as soon as it has this answer must not find it still taken.
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                release()
            await send(message)

        def delay(answer: list[Message]) -> float:
            lines = collection_lines(scope["method"], answer)
            seconds = self.latency.delay(lines)
            self.stats.delayed(lines, seconds)
            return seconds

        try:
            if self.latency.spec.active:
                await answer_late(self.app, scope, receive, forward, delay)
            else:
                await self.app(scope, receive, forward)
        finally:
            release()
