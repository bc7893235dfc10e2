"""How many requests are in flight to the PIM: all the allowed slots, fewer once it pushes back.

Akeneo answers 429 beyond 4 calls in flight per connection, 10 per instance (shared with every
other connection) or 100 requests per second (API-FACTS §9), so the number that works is only
known at run time. The rule, additive increase and multiplicative decrease with a probe
backoff:

- start at the ceiling (`max_concurrency`, never above 4, Akeneo's limit per connection);
- a 429 to a request sent under the current limit halves it (rounded up, at least 1); 429s
  to requests sent before that change are ignored, they answer a limit already left;
- a 429 with Retry-After holds every new request for that long, not only the one retried;
- after `PROBE_AFTER` × limit × backoff answers without a 429 to requests sent at the current
  limit, it grows by one. A raise that ends in a 429 before `limit` answers held at the new level
  doubles the backoff (up to `MAX_BACKOFF`); one that holds resets it. Against a PIM that
  allows fewer slots than the ceiling, the probing 429s thin out geometrically.

The client's one retry policy still decides when a 429'd request is tried again; its retry
goes through `acquire` like any request, so it waits for a slot under the new limit.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

CONNECTION_LIMIT = 4  # Akeneo SaaS: concurrent API calls per PIM connection
PROBE_AFTER = 8
MAX_BACKOFF = 32
THROTTLED = 429


@dataclass(frozen=True)
class Ticket:
    """One admitted request: the limit's generation when it was sent, and when."""

    generation: int
    product: bool
    started: float


class ConcurrencyLimit:
    """Thread-safe adaptive limit on requests in flight; `acquire` blocks for a slot."""

    def __init__(
        self,
        ceiling: int,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ceiling = max(1, min(ceiling, CONNECTION_LIMIT))
        # The client's own sleep and clock: a Retry-After hold runs on the retry policy's time.
        self._sleep, self._clock = sleep, clock
        self._cond = threading.Condition()
        self.limit = self.ceiling
        self._in_flight = 0
        self._generation = 0
        self._held = 0  # answers without a 429 to requests sent at the current limit
        self._probing = False
        self._backoff = 1
        self._resume_at = 0.0
        self.lowest = self.ceiling
        self.decreases = 0
        self.increases = 0
        self.throttled = 0
        # Product requests: first sent to last answered, and the seconds their slots were busy.
        self._first_product: float | None = None
        self._last_product = 0.0
        self._product_busy = 0.0

    def acquire(self, *, product: bool = False) -> Ticket:
        """Wait until a slot is free under the current limit and no Retry-After holds."""
        while True:
            with self._cond:
                wait = self._resume_at - self._clock()
                if wait <= 0:
                    if self._in_flight < self.limit:
                        self._in_flight += 1
                        now = self._clock()
                        if product and self._first_product is None:
                            self._first_product = now
                        return Ticket(self._generation, product, now)
                    self._cond.wait()
                    continue
            self._sleep(wait)

    def release(self, ticket: Ticket, status: int | None, retry_after: float | None = None) -> None:
        """Free the slot; `status` is the answer's (None: no answer, which says nothing)."""
        with self._cond:
            self._in_flight -= 1
            now = self._clock()
            if ticket.product:
                self._last_product = max(self._last_product, now)
                self._product_busy += now - ticket.started
            if status == THROTTLED:
                self._throttled(ticket, now, retry_after)
            elif status is not None and ticket.generation == self._generation:
                self._answered()
            self._cond.notify_all()

    def _throttled(self, ticket: Ticket, now: float, retry_after: float | None) -> None:
        self.throttled += 1
        if retry_after:
            self._resume_at = max(self._resume_at, now + retry_after)
        if ticket.generation != self._generation:
            return
        if self._probing:
            self._backoff = min(2 * self._backoff, MAX_BACKOFF)
        decreased = max(1, math.ceil(self.limit / 2))
        self._change(decreased, probing=False)
        self.decreases += 1
        self.lowest = min(self.lowest, decreased)

    def _answered(self) -> None:
        self._held += 1
        if self._probing and self._held >= self.limit:
            self._probing = False
            self._backoff = 1
        if self.limit < self.ceiling and self._held >= PROBE_AFTER * self.limit * self._backoff:
            self._change(self.limit + 1, probing=True)
            self.increases += 1

    def _change(self, limit: int, *, probing: bool) -> None:
        self.limit = limit
        self._generation += 1
        self._held = 0
        self._probing = probing

    def snapshot(self) -> dict[str, Any]:
        """For the run report: the limit's course and how busy the product slots were."""
        with self._cond:
            sending = 0.0
            if self._first_product is not None:
                sending = self._last_product - self._first_product
            return {
                "ceiling": self.ceiling,
                "limit": self.limit,
                "lowest": self.lowest,
                "decreases": self.decreases,
                "increases": self.increases,
                "throttled": self.throttled,
                "product_sending_seconds": round(sending, 3),
                "product_slot_seconds": round(self._product_busy, 3),
            }
