"""Nightly delta: a large export in which 1% of the products changed since the last run.

The last run is a full load of the export (the target from the tap's Singer file, into a
sandbox without latency, filling the state store). Tonight's export is the same catalog with
every 100th product renamed (`generate.py --changed-every 100`); the file changed, so the tap
reads all of it again, piped into the target with the same state store, against a sandbox on
the same address with the latency model and Akeneo's limits on. Both sandboxes share one
database file, so tonight's PIM holds last night's products and changed ones are updated
(with value deltas a changed product the PIM lacks would be sent again whole).
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from generate import Options, generate
from measure import SPAWN, BenchError, free_port, run_process
from section_pim import LATENCY, LIMITS
from section_target import credentials, request_counts
from workloads import ACCEPTANCE, CATALOG, PYTHON, SEED, TAP, TARGET, Workloads, label

CHANGED_EVERY = 100


def _changed_export(work: Workloads, size: int) -> Path:
    path = work.out / f"erp-{label(size)}-seed{SEED}-changed{CHANGED_EVERY}.xml"
    if not path.exists():
        partial = path.with_suffix(".partial")
        generate(Options(partial, size, SEED, changed_every=CHANGED_EVERY))
        partial.rename(path)
    return path


def _pipe(tap: list[str], target: list[str], logs: Path) -> dict[str, Any]:
    """tap | target, each under bench/spawn.py: wall time of the pair, rusage of each."""
    figures = {name: logs / f"delta-{name}.rusage.json" for name in ("tap", "target")}
    started = time.perf_counter()
    with (
        (logs / "delta-tap.log").open("wb") as tap_log,
        (logs / "delta-target.log").open("wb") as target_log,
    ):
        producer = subprocess.Popen(
            [PYTHON, str(SPAWN), str(figures["tap"]), *tap], stdout=subprocess.PIPE, stderr=tap_log
        )
        assert producer.stdout is not None
        consumer = subprocess.Popen(
            [PYTHON, str(SPAWN), str(figures["target"]), *target],
            stdin=producer.stdout,
            stdout=subprocess.DEVNULL,
            stderr=target_log,
        )
        producer.stdout.close()
        codes = (consumer.wait(), producer.wait())
    wall = time.perf_counter() - started
    if codes != (0, 0):
        raise BenchError(f"tap | target exited {codes} (logs: {logs}/delta-*.log)")
    found: dict[str, Any] = {"wall_seconds": wall}
    for name, path in figures.items():
        rusage = json.loads(path.read_text(encoding="utf-8"))
        found[name] = {"peak_mb": rusage["peak_mb"], "cpu_seconds": rusage["cpu"]}
    return found


def measure(work: Workloads, size: int) -> dict[str, Any]:
    """Full load, then the 1% delta through tap | target with latency and limits."""
    from akeneo_sandbox.testing import SandboxProcess

    logs = work.out / "logs"
    singer, records = work.singer(size)
    changed = _changed_export(work, size)
    port = free_port()
    with tempfile.TemporaryDirectory(dir=work.out) as tmp:
        state = Path(tmp)
        pim_db = str(state / "pim.sqlite")
        with SandboxProcess(catalog=CATALOG, db=pim_db, port=port) as pim:
            config = work.target_config(state, pim.base_url, credentials(pim))
            full = run_process(
                [str(TARGET), "--config", str(config)], stdin=singer, log=logs / "delta-full.log"
            )
        tap_config = json.loads((ACCEPTANCE / "tap-config.json").read_text(encoding="utf-8"))
        tap_config["files"] = [str(changed)]
        tap_path = state / "tap.json"
        tap_path.write_text(json.dumps(tap_config), encoding="utf-8")
        settings = json.loads(config.read_text(encoding="utf-8"))
        settings["max_concurrency"] = 4
        config.write_text(json.dumps(settings), encoding="utf-8")
        with SandboxProcess(
            catalog=CATALOG, db=pim_db, port=port, latency=LATENCY, limits=LIMITS
        ) as pim:
            tonight = _pipe(
                [str(TAP), "--config", str(tap_path)], [str(TARGET), "--config", str(config)], logs
            )
            stats = pim.stats()
        report = json.loads((state / "run-report.json").read_text(encoding="utf-8"))
    product, other = request_counts(stats)
    expected = -(-(size // CHANGED_EVERY) // 100)
    return {
        "size": records,
        "changed": size // CHANGED_EVERY,
        "full_load_seconds": full.wall,
        "full_load_peak_mb": full.peak_mb,
        **tonight,
        "product_requests": product,
        "other_requests": other,
        "expected_product_requests": expected,
        "throttled": sum(int(r["count"]) for r in stats["requests"] if r["status"] == 429),
        "report": {k: report[k] for k in ("received", "created", "updated", "unchanged")},
        "latency": LATENCY,
        "limits": LIMITS,
    }
