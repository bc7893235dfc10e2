"""`--latency` and `--limits`: spec parsing, and the real process over HTTP.

Timings are compared with generous bounds: a delay is at least what was asked for, and
overlapping requests take far less than the same requests one after the other.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from starlette.testclient import TestClient

from akeneo_sandbox.app import create_app
from akeneo_sandbox.config import Settings
from akeneo_sandbox.faults import parse_faults
from akeneo_sandbox.load import (
    Latency,
    LatencySpec,
    Limiter,
    LimitSpec,
    parse_latency,
    parse_limits,
)
from akeneo_sandbox.testing import SandboxProcess

from .conftest import CATALOG, COLLECTION

TOO_MANY = {"code": 429, "message": "You have exceeded the limit of API requests per second."}


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_specs_parse_into_typed_settings() -> None:
    assert parse_latency("request=80ms,line=10ms,jitter=0.2") == LatencySpec(0.08, 0.01, 0.2)
    assert parse_latency(" line = 1.5s ") == LatencySpec(line=1.5)
    assert parse_latency(None) == parse_latency("none") == LatencySpec()
    assert not LatencySpec().active
    assert parse_limits("concurrent=4,rate=100") == LimitSpec(concurrent=4, rate=100)
    assert parse_limits("rate=3") == LimitSpec(rate=3)
    assert parse_limits("") == LimitSpec()


@pytest.mark.parametrize(
    ("flag", "text", "message"),
    [
        ("--latency", "request=fast", "request needs a duration such as 80ms or 1.5s, got 'fast'"),
        ("--latency", "line=10", "line needs a duration such as 80ms or 1.5s, got '10'"),
        ("--latency", "request=-5ms", "request needs a duration"),
        ("--latency", "jitter=2", "jitter needs a number between 0 and 1, got '2'"),
        ("--latency", "delay=1s", "'delay=1s' is not KEY=VALUE with KEY one of request, line"),
        ("--limits", "concurrent=0", "concurrent needs a whole number of at least 1, got '0'"),
        ("--limits", "rate=2.5", "rate needs a whole number of at least 1, got '2.5'"),
        ("--limits", "rate=3,rate=4", "rate is given twice"),
        ("--limits", "burst", "'burst' is not KEY=VALUE with KEY one of concurrent, rate"),
    ],
)
def test_bad_spec_is_one_line_and_exit_2(flag: str, text: str, message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "akeneo_sandbox", "serve", "--port", "0", flag, text],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"akeneo-sandbox: error: {flag}: ")
    assert message in lines[0]


def test_jitter_stays_within_its_bounds_and_follows_the_seed() -> None:
    spec = LatencySpec(request=0.1, line=0.01, jitter=0.2)
    first, again, other = Latency(spec, 7), Latency(spec, 7), Latency(spec, 8)
    delays = [first.delay(10) for _ in range(200)]
    assert all(0.2 * 0.8 <= delay <= 0.2 * 1.2 for delay in delays)
    assert max(delays) - min(delays) > 0.2 * 0.2  # spread over the range, not one value
    assert delays == [again.delay(10) for _ in range(200)]
    assert delays != [other.delay(10) for _ in range(200)]
    assert Latency(LatencySpec(request=0.08, line=0.01), 0).delay(100) == pytest.approx(1.08)


def test_limiter_counts_requests_in_flight_and_in_the_last_second() -> None:
    clock = Clock()
    limiter = Limiter(LimitSpec(concurrent=2, rate=3), seed=0, clock=clock)
    assert [limiter.admit(), limiter.admit(), limiter.admit()] == [None, None, "concurrent"]
    limiter.release()
    assert limiter.admit() is None  # the freed slot; the third request of this second
    limiter.release()
    limiter.release()
    assert limiter.admit() == "rate"
    clock.now += 0.999
    assert limiter.admit() == "rate"
    clock.now += 0.002
    assert limiter.admit() is None
    assert limiter.in_flight == 1


def test_retry_after_is_on_about_half_of_the_limit_429s() -> None:
    limiter = Limiter(LimitSpec(rate=1), seed=3)
    draws = [limiter.retry_after() for _ in range(200)]
    assert 60 < sum(draws) < 140
    limiter.reset(3)
    assert [limiter.retry_after() for _ in range(200)] == draws


def test_limit_429s_are_counted_apart_from_fault_429s() -> None:
    settings = Settings(
        catalog=CATALOG, faults=parse_faults("429=1"), limits=parse_limits("rate=1")
    )
    with TestClient(create_app(settings)) as client:
        # Two requests in a row are far less than a second apart: the second is over the rate.
        answers = [client.get("/api/rest/v1/families") for _ in range(2)]
        stats = client.get("/sandbox/stats").json()
    assert [answer.status_code for answer in answers] == [429, 429]
    assert [answer.json() for answer in answers] == [TOO_MANY, TOO_MANY]
    assert stats["faults_injected"] == {"429": 1}
    assert stats["limits_rejected"] == {"rate": 1}


def _timed_get(pim: SandboxProcess, token: str) -> tuple[requests.Response, float]:
    started = time.monotonic()
    response = requests.get(
        f"{pim.base_url}/api/rest/v1/families",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    return response, time.monotonic() - started


@pytest.mark.slow
def test_latency_delays_every_answer_and_concurrent_requests_overlap() -> None:
    latency = 1.0
    with SandboxProcess(catalog=CATALOG, latency=f"request={latency:g}s") as pim:
        token = pim.token()
        alone, alone_seconds = _timed_get(pim, token)
        assert alone.ok
        assert alone_seconds >= latency
        started = time.monotonic()
        with ThreadPoolExecutor(4) as pool:
            together = list(pool.map(lambda _: _timed_get(pim, token), range(4)))
        wall = time.monotonic() - started
        assert all(response.ok for response, _ in together)
        assert all(seconds >= latency for _, seconds in together)
        # One after the other they would take 4 s; overlapping, about 1 s.
        assert wall < 0.6 * 4 * latency
        stats = pim.stats()
    assert stats["in_flight_peak"] == 4
    assert stats["latency_added"] == {"requests": 6, "lines": 0, "seconds": 6 * latency}


@pytest.mark.slow
def test_collection_patch_pays_per_line() -> None:
    with SandboxProcess(catalog=CATALOG, latency="request=100ms,line=20ms") as pim:
        token = pim.token()
        headers = {"Authorization": f"Bearer {token}", "Content-Type": COLLECTION}

        def patch(count: int) -> float:
            lines = (json.dumps({"identifier": f"L-{count}-{i}"}) for i in range(count))
            started = time.monotonic()
            response = requests.patch(
                f"{pim.base_url}/api/rest/v1/products",
                data="\n".join(lines),
                headers=headers,
                timeout=30,
            )
            assert response.status_code == 200
            assert response.text.count("\n") == count - 1
            return time.monotonic() - started

        one, fifty = patch(1), patch(50)
        stats = pim.stats()
    assert one >= 0.1 + 0.02
    assert fifty >= 0.1 + 50 * 0.02
    assert fifty > one + 0.5  # 49 more lines add 0.98 s
    assert stats["products_written"] == 51
    # Token request, then the two PATCHes: three request delays and 51 line delays.
    added = stats["latency_added"]
    assert (added["requests"], added["lines"]) == (3, 51)
    assert added["seconds"] == pytest.approx(3 * 0.1 + 51 * 0.02)
    # The time served covers the delay and the handler, and no more than the client waited.
    served = {
        row["route"]: row["seconds"] for row in stats["served_seconds"] if row["method"] == "PATCH"
    }
    assert 2 * 0.1 + 51 * 0.02 <= served["/api/rest/v1/products"] <= one + fifty


def _wait_for_peak(pim: SandboxProcess, peak: int) -> None:
    deadline = time.monotonic() + 10
    while pim.stats()["in_flight_peak"] < peak:
        assert time.monotonic() < deadline, "the first requests never got in flight"
        time.sleep(0.02)


@pytest.mark.slow
def test_requests_over_the_concurrency_limit_get_akeneos_429() -> None:
    with SandboxProcess(catalog=CATALOG, latency="request=2s", limits="concurrent=2") as pim:
        token = pim.token()
        pim.reset()  # stats from here on; the token stays valid
        with ThreadPoolExecutor(2) as pool:
            slow = [pool.submit(_timed_get, pim, token) for _ in range(2)]
            _wait_for_peak(pim, 2)
            # Both slots are held for 2 s: these are refused at once, before any handler.
            refused = [_timed_get(pim, token) for _ in range(3)]
            admitted = [future.result()[0] for future in slow]
        after, _ = _timed_get(pim, token)
        stats = pim.stats()
    assert [response.status_code for response in admitted] == [200, 200]
    for response, seconds in refused:
        assert response.status_code == 429
        assert response.json() == TOO_MANY
        assert response.headers["content-type"] == "application/json"
        assert response.headers.get("retry-after", "1") == "1"
        assert seconds < 2
    assert after.status_code == 200  # the slots were freed
    assert stats["limits_rejected"] == {"concurrent": 3}
    assert stats["faults_injected"] == {}
    assert stats["in_flight_peak"] == 2
    families = {
        (row["status"], row["count"])
        for row in stats["requests"]
        if row["route"] == "/api/rest/v1/families"
    }
    assert families == {(200, 3), (429, 3)}


@pytest.mark.slow
def test_requests_over_the_rate_get_429_until_the_second_has_passed() -> None:
    rate = 2
    with SandboxProcess(catalog=CATALOG, limits=f"rate={rate}") as pim:
        token = pim.token()
        time.sleep(1.1)  # the token request leaves the one-second window
        started = time.monotonic()
        answers = [_timed_get(pim, token)[0] for _ in range(10)]
        elapsed = time.monotonic() - started
        time.sleep(1.1)
        later, _ = _timed_get(pim, token)
        stats = pim.stats()
    statuses = [answer.status_code for answer in answers]
    admitted = statuses.count(200)
    assert statuses[:rate] == [200] * rate
    assert set(statuses) == {200, 429}
    # At most `rate` requests start in any one second of the burst.
    assert admitted <= rate * max(1, math.ceil(elapsed))
    assert all(answer.json() == TOO_MANY for answer in answers if answer.status_code == 429)
    assert later.status_code == 200
    assert stats["limits_rejected"] == {"rate": statuses.count(429)}


@pytest.mark.slow
def test_a_client_at_the_limit_is_never_refused() -> None:
    # The slot is freed before the answer's last byte: a client that keeps exactly
    # `concurrent` requests going, each sent when the previous answer arrives, gets no 429.
    with SandboxProcess(catalog=CATALOG, latency="request=20ms", limits="concurrent=2") as pim:
        token = pim.token()
        statuses: list[int] = []
        lock = threading.Lock()

        def worker() -> None:
            with requests.Session() as session:
                for _ in range(25):
                    response = session.get(
                        f"{pim.base_url}/api/rest/v1/families",
                        headers={"Authorization": f"Bearer {token}"},
                        timeout=30,
                    )
                    with lock:
                        statuses.append(response.status_code)

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        stats = pim.stats()
    assert statuses == [200] * 50
    assert stats["limits_rejected"] == {}
    assert stats["in_flight_peak"] == 2
