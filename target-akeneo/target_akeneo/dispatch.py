"""Pipelined sending: chunks go out from worker threads while the main thread reads on.

Outcomes are accounted only in the main thread, in submission order, so the report, the
dead-letter file and the skip-unchanged cache need no coordination with the workers; and
`settle` is the one point where "every product received so far has an answer" holds, which
is what a STATE message promises.

Items wait in one outbox per lane (a kind of line with its own endpoint: today products
only) so that every request carries one kind; the ordering rules hold across lanes.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass
class Pending:
    """A mapped product waiting to be sent."""

    stream: str
    identifier: str
    payload: dict[str, Any]
    record: Mapping[str, Any]
    digest: bytes  # the state remembered once the PIM confirms this line
    line: bytes
    # When `payload` is a delta: the full payload, sent if the PIM had no such product.
    whole: dict[str, Any] | None = None


@dataclass(frozen=True)
class Outcome:
    """What became of one pending product after sending."""

    item: Pending
    status_code: int | None
    body: Mapping[str, Any]
    reason: str | None


class Sender(Protocol):
    """Who sends and accounts: `send_chunk` runs in a worker thread, `account` in main."""

    def send_chunk(self, lane: str, chunk: Sequence[Pending]) -> list[Outcome]: ...

    def account(self, lane: str, outcomes: Sequence[Outcome]) -> None: ...


@dataclass(frozen=True)
class _Flight:
    seq: int
    lane: str
    chunk: Sequence[Pending]
    future: Future[list[Outcome]]


class Dispatcher:
    """Fills full chunks per lane and keeps at most `limit` of them unaccounted.

    Products that do not fill a chunk wait in their lane's outbox for the next batch, so
    small or filtered batches do not turn into extra, part-empty requests.
    """

    def __init__(self, sender: Sender, executor: Executor, chunk_size: int, limit: int) -> None:
        self._sender = sender
        self._executor = executor
        self._chunk_size = chunk_size
        self._limit = limit
        self._flights: deque[_Flight] = deque()
        self._outboxes: dict[str, list[Pending]] = {}
        # Identifier -> lane whose outbox holds it, or seq of the chunk carrying it.
        self._queued: dict[str, str] = {}
        self._flying: dict[str, int] = {}
        self._next_seq = 0

    def send(self, lane: str, items: Iterable[Pending]) -> None:
        """Queue products; submit every full chunk, waiting for the oldest when over limit."""
        outbox = self._outboxes.setdefault(lane, [])
        queued = self._queued
        for item in items:
            outbox.append(item)
            queued[item.identifier] = lane
        size = self._chunk_size
        while len(outbox) >= size:
            self._submit(lane, outbox[:size])
            del outbox[:size]
        while len(self._flights) > self._limit:
            self._harvest_one()

    def wait_for(self, identifiers: Iterable[str]) -> None:
        """Account every chunk holding one of `identifiers`, so a newer version follows it.

        Keeps "newest wins" across batches and lets the caller compare against what the
        PIM confirmed (and, for the uuid endpoint, find the product the PIM just created).
        """
        newest = -1
        for identifier in identifiers:
            lane = self._queued.get(identifier)
            if lane is not None:
                self._flush_outbox(lane)
            seq = self._flying.get(identifier, -1)
            newest = max(newest, seq)
        while self._flights and self._flights[0].seq <= newest:
            self._harvest_one()

    def settle(self) -> None:
        """Send what waits in the outboxes and account every outcome."""
        for lane in list(self._outboxes):
            self._flush_outbox(lane)
        while self._flights:
            self._harvest_one()

    def cancel(self) -> None:
        """Drop chunks not yet started (the run is failing); running ones finish alone."""
        for flight in self._flights:
            flight.future.cancel()
        self._flights.clear()
        self._outboxes.clear()
        self._queued.clear()
        self._flying.clear()

    def _flush_outbox(self, lane: str) -> None:
        outbox = self._outboxes.get(lane)
        while outbox:
            self._submit(lane, outbox[: self._chunk_size])
            del outbox[: self._chunk_size]

    def _submit(self, lane: str, chunk: list[Pending]) -> None:
        seq = self._next_seq
        self._next_seq += 1
        queued, flying = self._queued, self._flying
        for item in chunk:
            queued.pop(item.identifier, None)
            flying[item.identifier] = seq
        future = self._executor.submit(self._sender.send_chunk, lane, chunk)
        self._flights.append(_Flight(seq, lane, chunk, future))

    def _harvest_one(self) -> None:
        flight = self._flights[0]
        try:
            outcomes = flight.future.result()
        except BaseException:
            self.cancel()
            raise
        self._flights.popleft()
        flying = self._flying
        for item in flight.chunk:
            if flying.get(item.identifier) == flight.seq:
                del flying[item.identifier]
        self._sender.account(flight.lane, outcomes)
