"""Unit tests of the dispatcher's rules: ordering, newest wins, settle before STATE.

The sender is a fake whose requests finish when the test says so (threading events), so
the order of events is forced, not timed.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import pytest

from target_akeneo.dispatch import Dispatcher, Outcome, Pending

LANE = "products"


def item(identifier: str, version: int = 1) -> Pending:
    payload = {"identifier": identifier, "version": version}
    line = f"{identifier}:{version}".encode()
    return Pending("products", identifier, payload, {}, f"{identifier}:{version}", line)


class GatedSender:
    """Records what is sent and accounted; a chunk's request waits for its gate if it has one."""

    def __init__(self) -> None:
        self.sent: list[list[str]] = []
        self.accounted: list[list[str]] = []
        self.gates: dict[str, threading.Event] = {}
        self.finished: list[str] = []
        self._lock = threading.Lock()

    def gate(self, identifier: str) -> threading.Event:
        return self.gates.setdefault(identifier, threading.Event())

    def send_chunk(self, lane: str, chunk: Sequence[Pending]) -> list[Outcome]:
        assert lane == LANE
        with self._lock:
            self.sent.append([p.line.decode() for p in chunk])
        gate = self.gates.get(chunk[0].identifier)
        if gate is not None:
            assert gate.wait(timeout=30)
        with self._lock:
            self.finished.append(chunk[0].line.decode())
        return [Outcome(p, 204, {}, None) for p in chunk]

    def account(self, lane: str, outcomes: Sequence[Outcome]) -> None:
        self.accounted.append([o.item.line.decode() for o in outcomes])


@pytest.fixture
def executor() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=2)


def test_chunks_stay_full_across_batches_and_the_rest_waits_for_settle(
    executor: ThreadPoolExecutor,
) -> None:
    sender = GatedSender()
    dispatcher = Dispatcher(sender, executor, chunk_size=3, limit=4)
    dispatcher.send(LANE, [item("a"), item("b")])
    assert sender.sent == []  # not a full chunk yet: no part-empty request
    dispatcher.send(LANE, [item("c"), item("d")])
    dispatcher.settle()
    assert sender.sent == [["a:1", "b:1", "c:1"], ["d:1"]]
    assert sender.accounted == sender.sent


def test_outcomes_are_accounted_in_submission_order_even_when_answered_out_of_order(
    executor: ThreadPoolExecutor,
) -> None:
    sender = GatedSender()
    first = sender.gate("a")
    dispatcher = Dispatcher(sender, executor, chunk_size=1, limit=4)
    dispatcher.send(LANE, [item("a"), item("b")])
    # "b" is answered while "a" still waits; nothing may be accounted before "a".
    while sender.finished != ["b:1"]:
        threading.Event().wait(0.01)
    assert sender.accounted == []
    first.set()
    dispatcher.settle()
    assert sender.finished == ["b:1", "a:1"]
    assert sender.accounted == [["a:1"], ["b:1"]]


def test_no_more_than_limit_chunks_are_unaccounted(executor: ThreadPoolExecutor) -> None:
    sender = GatedSender()
    dispatcher = Dispatcher(sender, executor, chunk_size=1, limit=2)
    dispatcher.send(LANE, [item("a"), item("b")])
    assert sender.accounted == []
    dispatcher.send(LANE, [item("c")])  # a third flight: the oldest is accounted first
    assert sender.accounted == [["a:1"]]
    dispatcher.settle()
    assert sender.accounted == [["a:1"], ["b:1"], ["c:1"]]


def test_a_newer_version_waits_for_the_answer_to_the_older_one_in_flight(
    executor: ThreadPoolExecutor,
) -> None:
    sender = GatedSender()
    gate = sender.gate("a")
    dispatcher = Dispatcher(sender, executor, chunk_size=1, limit=4)
    dispatcher.send(LANE, [item("a", 1), item("x")])
    released = threading.Timer(0.05, gate.set)
    released.start()
    # The caller must know what the PIM confirmed for "a" before comparing version 2.
    dispatcher.wait_for(["a"])
    released.join()
    assert sender.accounted[0] == ["a:1"]
    dispatcher.send(LANE, [item("a", 2)])
    dispatcher.settle()
    assert [chunk for chunk in sender.sent if chunk[0].startswith("a")] == [["a:1"], ["a:2"]]


def test_a_queued_older_version_is_sent_and_answered_before_a_newer_one(
    executor: ThreadPoolExecutor,
) -> None:
    sender = GatedSender()
    dispatcher = Dispatcher(sender, executor, chunk_size=10, limit=4)
    dispatcher.send(LANE, [item("a", 1), item("b")])  # waits in the outbox: chunk not full
    dispatcher.wait_for(["a"])
    assert sender.accounted == [["a:1", "b:1"]]  # flushed and answered, not overtaken
    dispatcher.send(LANE, [item("a", 2)])
    dispatcher.settle()
    assert sender.sent == [["a:1", "b:1"], ["a:2"]]


def test_waiting_for_unknown_or_answered_products_sends_nothing(
    executor: ThreadPoolExecutor,
) -> None:
    sender = GatedSender()
    dispatcher = Dispatcher(sender, executor, chunk_size=10, limit=4)
    dispatcher.send(LANE, [item("b")])
    dispatcher.wait_for(["a"])
    assert sender.sent == []


def test_settle_returns_only_when_every_product_so_far_is_accounted(
    executor: ThreadPoolExecutor,
) -> None:
    sender = GatedSender()
    gate = sender.gate("a")
    dispatcher = Dispatcher(sender, executor, chunk_size=2, limit=4)
    dispatcher.send(LANE, [item("a"), item("b"), item("c")])
    settled = threading.Event()

    def settle() -> None:
        dispatcher.settle()
        settled.set()

    thread = threading.Thread(target=settle)
    thread.start()
    assert not settled.wait(0.2)  # "a" and "b" are unanswered: no STATE may pass
    gate.set()
    thread.join(timeout=30)
    assert settled.is_set()
    assert sorted(line for chunk in sender.accounted for line in chunk) == ["a:1", "b:1", "c:1"]


def test_a_failing_send_cancels_the_rest_and_raises_at_accounting(
    executor: ThreadPoolExecutor,
) -> None:
    class Failing(GatedSender):
        def send_chunk(self, lane: str, chunk: Sequence[Pending]) -> list[Outcome]:
            raise RuntimeError("token refused")

    sender = Failing()
    dispatcher = Dispatcher(sender, executor, chunk_size=1, limit=4)
    dispatcher.send(LANE, [item("a"), item("b")])
    with pytest.raises(RuntimeError, match="token refused"):
        dispatcher.settle()
    assert sender.accounted == []
    dispatcher.settle()  # nothing left behind
