"""Target memory: peak RSS by catalog size (first load, unchanged re-run) and what it holds.

Issue 21: the target's peak memory must not depend on the number of products in the run.
Per size: the target loads the Singer file into an empty sandbox with a fresh state store,
then runs again unchanged with the same store. The profile runs the target under tracemalloc
(bench/memprofile.py) at two sizes; the difference of what is alive at the end of the run,
per 100k products, is what grows with the catalog.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from measure import BenchError, run_process
from section_target import Sandbox, credentials
from workloads import BENCH, PYTHON, TARGET, Workloads, label

PER = 100_000


def _target(config: Path, singer: Path, log: Path) -> float:
    return run_process([str(TARGET), "--config", str(config)], stdin=singer, log=log).peak_mb


def measure_once(work: Workloads, sandbox: Sandbox, size: int) -> dict[str, Any]:
    """Peak MB of a first load and of an unchanged re-run at `size` products."""
    singer, records = work.singer(size)
    logs = work.out / "logs"
    logs.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=work.out) as tmp:
        config = work.target_config(Path(tmp), sandbox.base_url, credentials(sandbox))
        sandbox.reset()
        first = _target(config, singer, logs / f"memory-{label(size)}.log")
        written = int(sandbox.stats().get("products_total", 0))
        again = _target(config, singer, logs / f"memory-rerun-{label(size)}.log")
    sandbox.reset()
    if written != records:
        raise BenchError(f"target-akeneo left {written} of {records} products in the PIM")
    return {"size": size, "products": records, "first_peak_mb": first, "rerun_peak_mb": again}


def _profile(work: Workloads, sandbox: Sandbox, size: int) -> dict[str, Any]:
    singer, _ = work.singer(size)
    log = work.out / "logs" / f"memprofile-{label(size)}.log"
    log.parent.mkdir(exist_ok=True)
    result = log.with_suffix(".json")
    with tempfile.TemporaryDirectory(dir=work.out) as tmp:
        config = work.target_config(Path(tmp), sandbox.base_url, credentials(sandbox))
        sandbox.reset()
        command = [PYTHON, str(BENCH / "memprofile.py"), str(result), "--config", str(config)]
        run_process(command, stdin=singer, log=log)
    sandbox.reset()
    taken: dict[str, Any] = json.loads(result.read_text(encoding="utf-8"))
    return taken


def _short(where: str) -> str:
    for marker in ("/site-packages/", "/target-akeneo/", "/lib/python"):
        if marker in where:
            return where.split(marker, 1)[1]
    return where


def profile(work: Workloads, sandbox: Sandbox, small: int, large: int) -> dict[str, Any]:
    """tracemalloc at two sizes: the lines whose live bytes grow, per 100k products."""
    at_small, at_large = _profile(work, sandbox, small), _profile(work, sandbox, large)
    before = {row["where"]: row["bytes"] for row in at_small["top"]}
    scale = PER / (large - small)
    growth = [
        {
            "where": _short(row["where"]),
            "bytes_per_100k": (row["bytes"] - before.get(row["where"], 0)) * scale,
            "bytes_at_large": row["bytes"],
        }
        for row in at_large["top"]
    ]
    growth.sort(key=lambda row: row["bytes_per_100k"], reverse=True)
    return {
        "small": small,
        "large": large,
        "traced_mb_small": at_small["traced_bytes"] / 2**20,
        "traced_mb_large": at_large["traced_bytes"] / 2**20,
        "traced_mb_per_100k": (at_large["traced_bytes"] - at_small["traced_bytes"]) * scale / 2**20,
        "growth": growth[:8],
    }


def measure(
    work: Workloads, sandbox: Sandbox, sizes: tuple[int, ...], profile_sizes: tuple[int, int]
) -> dict[str, Any]:
    """Peak memory per size, and the profile of what grows."""
    rows = [measure_once(work, sandbox, size) for size in sizes]
    return {"rows": rows, "profile": profile(work, sandbox, *profile_sizes)}
