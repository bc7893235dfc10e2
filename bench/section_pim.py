"""PIM-bound: the target, the bare poster and a naive client against a sandbox with latency.

With the latency model on (`request=80ms,line=10ms`: a 100-line PATCH is held 1.08 s), what
decides the time is how few requests are sent and how full the allowed slots are kept, not
the client's CPU. Slot utilisation = the least time the PIM needs for the product requests,
divided by the slots, ÷ the measured sending time (first product request to last answer, as
each client times it). The PIM's time per request is measured by the sandbox, from receiving
the request to sending its answer's last byte (`/sandbox/stats` `served_seconds`: parsing and
validating the lines, then the latency delay); the latency delay alone (`latency_added`) gives
the older, smaller bound, kept beside it. The client side: the seconds each client held a slot
(request sent to answer read), so that slots × sending time − held is the clients' idle time.
Then the target again under Akeneo's limits (`concurrent=4,rate=100`): 429s and utilisation.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from measure import BenchError, run_process
from section_target import PRODUCT_ROUTE, Sandbox, credentials, request_counts
from workloads import BENCH, CATALOG, PYTHON, TARGET, Workloads, label

LATENCY = "request=80ms,line=10ms"
REQUEST_SECONDS = 0.080
LIMITS = "concurrent=4,rate=100"
SLOTS = 4
SETTLING = 10.0  # 429s are also counted from this many seconds after the start


@contextmanager
def _sandbox(limits: str | None = None) -> Iterator[Sandbox]:
    from akeneo_sandbox.testing import SandboxProcess

    with SandboxProcess(catalog=CATALOG, db=":memory:", latency=LATENCY, limits=limits) as pim:
        yield pim


def _product_delay(stats: dict[str, Any]) -> float:
    """Server-side delay of the product requests: all delay minus that of the others."""
    added = stats["latency_added"]
    product, _ = request_counts(stats)
    return float(added["seconds"]) - (int(added["requests"]) - product) * REQUEST_SECONDS


def _product_served(stats: dict[str, Any]) -> float:
    """Seconds the sandbox held the product write requests, received to answered."""
    return sum(
        float(row["seconds"])
        for row in stats["served_seconds"]
        if row["method"] in {"PATCH", "POST"} and str(row["route"]).startswith(PRODUCT_ROUTE)
    )


def _throttled(stats: dict[str, Any]) -> int:
    return sum(int(row["count"]) for row in stats["requests"] if row["status"] == 429)


def _figures(
    products: int, stats: dict[str, Any], sending: float, slots: int, held: float | None
) -> dict[str, Any]:
    """`held`: the seconds the client held its slots for product requests, if it timed them."""
    product_requests, other = request_counts(stats)
    served = _product_served(stats)
    latency_bound = _product_delay(stats) / slots
    pim_bound = served / slots
    figures = {
        "products": products,
        "pps": products / sending,
        "sending_seconds": sending,
        "product_requests": product_requests,
        "other_requests": other,
        "requests_per_100": 100 * product_requests / products,
        "pim_seconds_per_request": served / product_requests,
        "latency_seconds_per_request": _product_delay(stats) / product_requests,
        "pim_seconds_lower_bound": pim_bound,
        "utilisation": pim_bound / sending,
        "latency_seconds_lower_bound": latency_bound,
        "latency_utilisation": latency_bound / sending,
        "throttled": _throttled(stats),
    }
    if held is not None:
        # Between an answer and the next request on that slot, per request on average.
        figures["client_idle_per_request"] = (slots * sending - held) / product_requests
        figures["client_held_per_request"] = held / product_requests
    return figures


def _target(work: Workloads, pim: Sandbox, size: int, log: Path) -> dict[str, Any]:
    singer, records = work.singer(size)
    early: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(dir=work.out) as tmp:
        config = work.target_config(Path(tmp), pim.base_url, credentials(pim))
        settings = json.loads(config.read_text(encoding="utf-8"))
        settings["max_concurrency"] = SLOTS
        config.write_text(json.dumps(settings), encoding="utf-8")
        timer = threading.Timer(SETTLING, lambda: early.update(pim.stats()))
        timer.start()
        try:
            run = run_process([str(TARGET), "--config", str(config)], stdin=singer, log=log)
        finally:
            timer.cancel()
        report = json.loads((Path(tmp) / "run-report.json").read_text(encoding="utf-8"))
    stats = pim.stats()
    if int(stats["products_total"]) != records:
        raise BenchError(f"target-akeneo left {stats['products_total']} of {records} products")
    control = report["concurrency"]
    figures = _figures(
        records,
        stats,
        float(control["product_sending_seconds"]),
        SLOTS,
        float(control["product_slot_seconds"]),
    )
    late_requests = sum(int(r["count"]) for r in stats["requests"]) - sum(
        int(r["count"]) for r in early.get("requests", [])
    )
    late_throttled = figures["throttled"] - (_throttled(early) if early else 0)
    figures.update(
        wall_seconds=run.wall,
        peak_mb=run.peak_mb,
        throttled_after_settling=late_throttled,
        requests_after_settling=late_requests,
        throttled_share_after_settling=late_throttled / late_requests if late_requests else 0.0,
        lowest_limit=control["lowest"],
        final_limit=control["limit"],
    )
    return figures


def _baseline(pim: Sandbox, args: list[str], log: Path, slots: int) -> dict[str, Any]:
    env = {
        **os.environ,
        "BENCH_CLIENT_ID": pim.client_id,
        "BENCH_SECRET": pim.secret,
        "BENCH_USERNAME": pim.username,
        "BENCH_PASSWORD": pim.password,
    }
    result = log.with_suffix(".json")
    command = [PYTHON, str(BENCH / "baselines.py"), *args]
    run_process(command, log=log, stdout=result, env=env)
    figures: dict[str, Any] = json.loads(result.read_text(encoding="utf-8"))
    stats = pim.stats()
    held = figures.get("slot_seconds")
    return _figures(
        int(figures["products"]),
        stats,
        float(figures["seconds"]),
        slots,
        None if held is None else float(held),
    )


def measure(work: Workloads, sizes: tuple[int, ...], naive_size: int) -> dict[str, Any]:
    """Per size: target, bare poster (4 threads), target under limits; the naive client once."""
    logs = work.out / "logs"
    logs.mkdir(exist_ok=True)
    rows = []
    for size in sizes:
        name = label(size)
        export = str(work.export(size))
        with _sandbox() as pim:
            target = _target(work, pim, size, logs / f"pim-target-{name}.log")
            pim.reset()
            bare_args = ["post", export, pim.base_url, "--threads", str(SLOTS)]
            bare = _baseline(pim, bare_args, logs / f"pim-bare-{name}.log", SLOTS)
        with _sandbox(LIMITS) as pim:
            limited = _target(work, pim, size, logs / f"pim-limited-{name}.log")
        rows.append(
            {
                "size": size,
                "target": target,
                "bare": bare,
                "limited": limited,
                "ratio_to_bare": target["pps"] / bare["pps"],
            }
        )
    with _sandbox() as pim:
        naive_args = ["naive", str(work.export(sizes[0])), pim.base_url]
        naive_log = logs / "pim-naive.log"
        naive = _baseline(pim, [*naive_args, "--products", str(naive_size)], naive_log, SLOTS)
    return {"latency": LATENCY, "limits": LIMITS, "slots": SLOTS, "rows": rows, "naive": naive}
