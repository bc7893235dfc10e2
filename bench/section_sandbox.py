"""Sandbox: start time of `akeneo-sandbox serve` and latency of a 100-product collection PATCH."""

from __future__ import annotations

import subprocess
import time
from typing import Any

import requests
from baselines import COLLECTION_TYPE, build_bodies, token
from measure import BenchError, free_port, median
from section_target import Sandbox, credentials
from workloads import CATALOG, SANDBOX, Workloads

START_TIMEOUT = 30.0
POLL_SECONDS = 0.01


def start_seconds() -> float:
    """Seconds from spawning `akeneo-sandbox serve` to its first HTTP answer."""
    port = free_port()
    command = [str(SANDBOX), "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--db", ":memory:", "--catalog", str(CATALOG)]
    url = f"http://127.0.0.1:{port}/sandbox/stats"
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.perf_counter() - started < START_TIMEOUT:
            try:
                requests.get(url, timeout=1)
            except requests.ConnectionError:
                if process.poll() is not None:
                    raise BenchError(f"akeneo-sandbox serve exited {process.returncode}") from None
                time.sleep(POLL_SECONDS)
                continue
            return time.perf_counter() - started
        raise BenchError(f"akeneo-sandbox did not answer within {START_TIMEOUT:.0f} s")
    finally:
        process.terminate()
        process.wait(timeout=10)


def patch_latencies(work: Workloads, sandbox: Sandbox, batches: int) -> list[float]:
    """Milliseconds per collection PATCH of 100 new valid products, one request at a time."""
    bodies = build_bodies(work.export(batches * 100))
    session = requests.Session()
    sandbox.reset()
    bearer = token(session, sandbox.base_url, credentials(sandbox))
    headers = {"Authorization": f"Bearer {bearer}", "Content-Type": COLLECTION_TYPE}
    url = f"{sandbox.base_url}/api/rest/v1/products"
    latencies = []
    for body in bodies:
        started = time.perf_counter()
        response = session.patch(url, data=body, headers=headers, timeout=60)
        latencies.append(1000 * (time.perf_counter() - started))
        response.raise_for_status()
        if '"status_code":4' in response.text.replace(" ", ""):
            raise BenchError("the sandbox rejected a generated product; latency not comparable")
    return latencies


def measure(work: Workloads, sandbox: Sandbox, starts: int, batches: int) -> dict[str, Any]:
    """Median start time over `starts` launches and median PATCH latency over `batches`."""
    launches = [start_seconds() for _ in range(starts)]
    latencies = patch_latencies(work, sandbox, batches)
    ordered = sorted(latencies)
    return {
        "starts": starts,
        "start_seconds": median(launches),
        "start_runs": launches,
        "patches": len(latencies),
        "patch100_ms": median(latencies),
        "patch100_p90_ms": ordered[int(0.9 * (len(ordered) - 1))],
    }
