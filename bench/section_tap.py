"""Tap: records per second and peak memory, next to the bare lxml loop in the same repetition."""

from __future__ import annotations

from typing import Any

from measure import BenchError, ProcessRun, run_process, summarise
from workloads import BENCH, PYTHON, TAP, Workloads, emitted_records, label


def _tap(work: Workloads, size: int, rep: int, processes: int | None) -> ProcessRun:
    config = work.tap_config(size, processes)
    name = f"tap-{label(size)}-{rep}" + ("" if processes is None else f"-p{processes}")
    tap = run_process(
        [str(TAP), "--config", str(config)],
        log=work.out / "logs" / f"{name}.log",
        tree_role="tap-erp-xml",  # the tap and the process it forks for a large file
    )
    records = emitted_records(tap.stderr)
    if records is None:
        records = work.counted(size)
    if records != size:
        raise BenchError(f"tap-erp-xml emitted {records} records of {size} ({config})")
    return tap


def measure_once(work: Workloads, size: int, rep: int) -> dict[str, Any]:
    """One repetition over the same file, back to back: the bare loop, the tap with its
    default settings (2 processes on a large file, see tap_erp_xml/parallel.py), and the
    tap held to one process."""
    export = work.export(size)
    (work.out / "logs").mkdir(exist_ok=True)
    bare = run_process(
        [PYTHON, str(BENCH / "baselines.py"), "lxml", str(export)],
        log=work.out / "logs" / f"lxml-{label(size)}-{rep}.log",
    )
    tap = _tap(work, size, rep, None)
    single = _tap(work, size, rep, 1)
    bare_eps = size / bare.wall
    return {
        "records": size,
        "tap_seconds": tap.wall,
        "tap_rps": size / tap.wall,
        "tap_cpu_seconds": tap.cpu,
        "tap_peak_mb": tap.peak_mb,
        "single_seconds": single.wall,
        "single_rps": size / single.wall,
        "single_peak_mb": single.peak_mb,
        "lxml_seconds": bare.wall,
        "lxml_eps": bare_eps,
        "lxml_peak_mb": bare.peak_mb,
        "ratio": (size / tap.wall) / bare_eps,
        "single_ratio": (size / single.wall) / bare_eps,
    }


def measure(work: Workloads, size: int, reps: int) -> dict[str, Any]:
    """Median figures of `reps` repetitions at `size` products."""
    runs = [measure_once(work, size, rep) for rep in range(reps)]
    return summarise(size, runs)
