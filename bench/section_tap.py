"""Tap: records per second and peak memory, next to the bare lxml loop in the same repetition."""

from __future__ import annotations

from typing import Any

from measure import BenchError, run_process, summarise
from workloads import BENCH, PYTHON, TAP, Workloads, emitted_records, label


def measure_once(work: Workloads, size: int, rep: int) -> dict[str, Any]:
    """One repetition: the bare loop then the tap, back to back over the same file."""
    export = work.export(size)
    config = work.tap_config(size)
    logs = work.out / "logs"
    logs.mkdir(exist_ok=True)
    bare = run_process(
        [PYTHON, str(BENCH / "baselines.py"), "lxml", str(export)],
        log=logs / f"lxml-{label(size)}-{rep}.log",
    )
    tap = run_process(
        [str(TAP), "--config", str(config)], log=logs / f"tap-{label(size)}-{rep}.log"
    )
    records = emitted_records(tap.stderr)
    if records is None:
        records = work.counted(size)
    if records != size:
        raise BenchError(f"tap-erp-xml emitted {records} records of {size} ({export})")
    return {
        "records": records,
        "tap_seconds": tap.wall,
        "tap_rps": records / tap.wall,
        "tap_cpu_seconds": tap.cpu,
        "tap_peak_mb": tap.peak_mb,
        "lxml_seconds": bare.wall,
        "lxml_eps": size / bare.wall,
        "lxml_peak_mb": bare.peak_mb,
        "ratio": (records / tap.wall) / (size / bare.wall),
    }


def measure(work: Workloads, size: int, reps: int) -> dict[str, Any]:
    """Median figures of `reps` repetitions at `size` products."""
    runs = [measure_once(work, size, rep) for rep in range(reps)]
    return summarise(size, runs)
