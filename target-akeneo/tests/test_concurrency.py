"""The concurrency rule on its own (scripted answers, a fake clock); against a PIM with real
limits it runs in test_pim_limits."""

from __future__ import annotations

from target_akeneo.concurrency import CONNECTION_LIMIT, PROBE_AFTER, ConcurrencyLimit


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def answer(limit: ConcurrencyLimit, status: int, count: int = 1) -> None:
    for _ in range(count):
        limit.release(limit.acquire(), status)


def test_never_above_akeneos_limit_per_connection() -> None:
    assert ConcurrencyLimit(8).limit == CONNECTION_LIMIT
    assert ConcurrencyLimit(0).limit == 1


def test_a_429_halves_once_for_the_requests_sent_under_the_same_limit() -> None:
    limit = ConcurrencyLimit(4)
    sent = [limit.acquire() for _ in range(4)]
    for ticket in sent:
        limit.release(ticket, 429)
    assert (limit.limit, limit.decreases, limit.throttled) == (2, 1, 4)
    answer(limit, 429)
    assert limit.limit == 1
    answer(limit, 429)
    assert limit.limit == 1


def test_raised_by_one_after_answers_without_429_and_each_failed_probe_waits_twice_as_long() -> (
    None
):
    limit = ConcurrencyLimit(4)
    answer(limit, 429)
    assert limit.limit == 2
    answer(limit, 204, PROBE_AFTER * 2 - 1)
    assert limit.limit == 2
    answer(limit, 204)
    assert (limit.limit, limit.increases) == (3, 1)
    answer(limit, 429)
    assert limit.limit == 2
    answer(limit, 204, PROBE_AFTER * 2)
    assert limit.limit == 2
    answer(limit, 204, PROBE_AFTER * 2)
    assert limit.limit == 3
    # This probe holds: the next one comes after the ordinary count again.
    answer(limit, 204, 3)
    answer(limit, 204, PROBE_AFTER * 3 - 3)
    assert limit.limit == 4
    answer(limit, 204, PROBE_AFTER * 4)
    assert limit.limit == 4


def test_answers_to_requests_sent_before_a_change_do_not_count_towards_a_raise() -> None:
    limit = ConcurrencyLimit(2)
    early = [limit.acquire() for _ in range(2)]
    limit.release(early[0], 429)
    limit.release(early[1], 204)
    assert limit.limit == 1
    answer(limit, 204, PROBE_AFTER - 1)
    assert limit.limit == 1
    answer(limit, 204)
    assert limit.limit == 2


def test_a_retry_after_holds_every_new_request_on_the_clients_clock() -> None:
    clock = Clock()
    limit = ConcurrencyLimit(4, sleep=clock.sleep, clock=lambda: clock.now)
    other = limit.acquire()
    limit.release(limit.acquire(), 429, retry_after=3.0)
    limit.release(limit.acquire(), 204)
    assert clock.sleeps == [3.0]
    limit.release(other, 204)
    assert limit.snapshot()["throttled"] == 1
