"""Tap: records per second and peak memory, next to the bare lxml loop in the same repetition."""

from __future__ import annotations

from typing import Any

from measure import BenchError, run_process, summarise
from workloads import BENCH, PYTHON, TAP, Workloads, emitted_records, label


def measure_once(work: Workloads, size: int, rep: int) -> dict[str, Any]:
    """One repetition over the same file, back to back: the bare loop, then the tap (one
    process, its default settings)."""
    export = work.export(size)
    (work.out / "logs").mkdir(exist_ok=True)
    bare = run_process(
        [PYTHON, str(BENCH / "baselines.py"), "lxml", str(export)],
        log=work.out / "logs" / f"lxml-{label(size)}-{rep}.log",
    )
    config = work.tap_config(size)
    tap = run_process(
        [str(TAP), "--config", str(config)], log=work.out / "logs" / f"tap-{label(size)}-{rep}.log"
    )
    records = emitted_records(tap.stderr)
    if records is None:
        records = work.counted(size)
    if records != size:
        raise BenchError(f"tap-erp-xml emitted {records} records of {size} ({config})")
    bare_eps = size / bare.wall
    return {
        "records": size,
        "tap_seconds": tap.wall,
        "tap_rps": size / tap.wall,
        "tap_cpu_seconds": tap.cpu,
        "tap_peak_mb": tap.peak_mb,
        "lxml_seconds": bare.wall,
        "lxml_eps": bare_eps,
        "lxml_peak_mb": bare.peak_mb,
        "ratio": (size / tap.wall) / bare_eps,
    }


def measure(work: Workloads, size: int, reps: int) -> dict[str, Any]:
    """Median figures of `reps` repetitions at `size` products."""
    runs = [measure_once(work, size, rep) for rep in range(reps)]
    return summarise(size, runs)
