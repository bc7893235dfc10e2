"""Target: throughput, PIM load and client CPU against a real sandbox, next to the bare poster.

One repetition at one size: the target loads the pre-made Singer file into an empty PIM, runs
again unchanged with the same cache (it should send no product), then the PIM is emptied and
the bare poster sends the same products as pre-built 100-line batches.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Protocol

from baselines import iter_products, payload_of
from measure import BenchError, run_process, summarise
from workloads import BENCH, PYTHON, TARGET, Workloads, label

PRODUCT_ROUTE = "/api/rest/v1/products"


class Sandbox(Protocol):
    """What the benchmark uses of akeneo_sandbox.testing.SandboxProcess."""

    base_url: str
    client_id: str
    secret: str
    username: str
    password: str

    def stats(self) -> dict[str, Any]: ...

    def reset(self) -> None: ...


def credentials(sandbox: Sandbox) -> dict[str, str]:
    """The target settings naming the sandbox's credentials."""
    return {
        "client_id": sandbox.client_id,
        "secret": sandbox.secret,
        "username": sandbox.username,
        "password": sandbox.password,
    }


def request_counts(stats: dict[str, Any]) -> tuple[int, int]:
    """(product write requests, all other requests) the sandbox has answered."""
    product = other = 0
    for row in stats["requests"]:
        count = int(row["count"])
        is_product_write = row["method"] in {"PATCH", "POST"} and str(row["route"]).startswith(
            PRODUCT_ROUTE
        )
        if is_product_write:
            product += count
        else:
            other += count
    return product, other


def _run_target(
    sandbox: Sandbox, config: Path, singer: Path, log: Path
) -> tuple[dict[str, float], dict[str, Any]]:
    before = request_counts(sandbox.stats())
    run = run_process([str(TARGET), "--config", str(config)], stdin=singer, log=log)
    after = request_counts(sandbox.stats())
    figures = {
        "seconds": run.wall,
        "cpu_seconds": run.cpu,
        "peak_mb": run.peak_mb,
        "product_requests": after[0] - before[0],
        "other_requests": after[1] - before[1],
    }
    report_path = config.parent / "run-report.json"
    report = json.loads(report_path.read_text(encoding="utf-8")) if report_path.exists() else {}
    return figures, report


def _run_bare(sandbox: Sandbox, size: int, work: Workloads, log: Path) -> dict[str, Any]:
    env = {
        **os.environ,
        "BENCH_CLIENT_ID": sandbox.client_id,
        "BENCH_SECRET": sandbox.secret,
        "BENCH_USERNAME": sandbox.username,
        "BENCH_PASSWORD": sandbox.password,
    }
    result = log.with_suffix(".json")
    command = [PYTHON, str(BENCH / "baselines.py"), "post", str(work.export(size))]
    run_process([*command, sandbox.base_url], log=log, stdout=result, env=env)
    figures: dict[str, Any] = json.loads(result.read_text(encoding="utf-8"))
    return figures


def measure_once(work: Workloads, sandbox: Sandbox, size: int, rep: int) -> dict[str, Any]:
    """One repetition: target, unchanged re-run, bare poster, all on the same sandbox."""
    singer, records = work.singer(size)
    logs = work.out / "logs"
    logs.mkdir(exist_ok=True)
    name = f"{label(size)}-{rep}"
    with tempfile.TemporaryDirectory(dir=work.out) as tmp:
        config = work.target_config(Path(tmp), sandbox.base_url, credentials(sandbox))
        sandbox.reset()
        first, report = _run_target(sandbox, config, singer, logs / f"target-{name}.log")
        written = int(sandbox.stats().get("products_total", 0))
        again, _ = _run_target(sandbox, config, singer, logs / f"target-rerun-{name}.log")
    if written != records:
        raise BenchError(f"target-akeneo left {written} of {records} products in the PIM")
    sandbox.reset()
    bare = _run_bare(sandbox, size, work, logs / f"bare-post-{name}.log")
    bare_written = int(sandbox.stats().get("products_total", 0))
    if bare_written != records:
        raise BenchError(f"bare poster left {bare_written} of {records} products in the PIM")
    target_pps = records / first["seconds"]
    bare_pps = records / bare["seconds"]
    return {
        "products": records,
        "target_seconds": first["seconds"],
        "target_pps": target_pps,
        "target_peak_mb": first["peak_mb"],
        "cpu_ms_per_product": 1000 * first["cpu_seconds"] / records,
        "product_requests": first["product_requests"],
        "structure_requests": first["other_requests"],
        "requests_per_100": 100 * first["product_requests"] / records,
        "rerun_seconds": again["seconds"],
        "rerun_product_requests": again["product_requests"],
        "bare_seconds": bare["seconds"],
        "bare_pps": bare_pps,
        "bare_requests": bare["requests"],
        "ratio": target_pps / bare_pps,
        "report_created": report.get("created", -1),
        "report_rejected": report.get("rejected", -1),
    }


def measure(work: Workloads, sandbox: Sandbox, size: int, reps: int) -> dict[str, Any]:
    """Median figures of `reps` repetitions at `size` products."""
    runs = [measure_once(work, sandbox, size, rep) for rep in range(reps)]
    return summarise(size, runs)


def _comparable(payload: dict[str, Any]) -> dict[str, Any]:
    """A payload in an order-free form; the identifier attribute may or may not be listed."""
    values = {
        code: sorted(entries, key=lambda e: (str(e["locale"]), str(e["scope"])))
        for code, entries in payload.get("values", {}).items()
        if code != "sku"
    }
    return {**payload, "values": values, "categories": sorted(payload.get("categories", []))}


def payload_parity(work: Workloads, sandbox: Sandbox, size: int) -> dict[str, Any]:
    """Whether the bare poster sends exactly what the target sends (target in dry-run mode)."""
    singer, _ = work.singer(size)
    with tempfile.TemporaryDirectory(dir=work.out) as tmp:
        config = work.target_config(Path(tmp), sandbox.base_url, credentials(sandbox))
        settings = json.loads(config.read_text(encoding="utf-8"))
        dry_run = Path(tmp) / "dry-run.jsonl"
        settings.update(dry_run=True, dry_run_path=str(dry_run), skip_unchanged=False)
        config.write_text(json.dumps(settings), encoding="utf-8")
        log = work.out / "logs" / f"target-dry-run-{label(size)}.log"
        run_process([str(TARGET), "--config", str(config)], stdin=singer, log=log)
        lines = dry_run.read_text(encoding="utf-8").splitlines()
    target = {}
    for line in lines:
        payload = json.loads(line)["payload"]
        target[payload["identifier"]] = _comparable(payload)
    bare = {}
    for elem in iter_products(work.export(size)):
        payload = payload_of(elem)
        bare[payload["identifier"]] = _comparable(payload)
    differing = sorted(
        sku for sku in bare.keys() | target.keys() if bare.get(sku) != target.get(sku)
    )
    example = differing[0] if differing else None
    return {
        "products": len(bare),
        "identical": len(bare) - len(differing),
        "example": {
            "identifier": example,
            "bare": bare.get(example or ""),
            "target": target.get(example or ""),
        }
        if example
        else None,
    }
