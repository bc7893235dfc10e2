"""End to end: `meltano run tap-erp-xml target-akeneo` with the repository's meltano.yml.

State, cache and reports are isolated per repetition, so every run is a first full load.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from measure import BenchError, run_tree, summarise
from section_target import Sandbox
from workloads import MAPPING, MELTANO, ROOT, Workloads, label

ROLES = ("tap-erp-xml", "target-akeneo")
PLUGIN_VENVS = (
    ROOT / ".meltano" / "extractors" / "tap-erp-xml" / "venv",
    ROOT / ".meltano" / "loaders" / "target-akeneo" / "venv",
)


def base_env() -> dict[str, str]:
    """The caller's environment without any plugin or Meltano settings of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TAP_", "TARGET_", "MELTANO_"))}
    env.update(
        MELTANO_ENVIRONMENT="dev",
        MELTANO_SEND_ANONYMOUS_USAGE_STATS="false",
        MELTANO_CLI_DISABLE_VERSION_CHECK="true",
        MELTANO_DISABLE_TRACKING="true",
        NO_COLOR="1",
    )
    return env


def install(force: bool, log: Path) -> None:
    """`meltano install` once (skipped when the plugin venvs exist, unless forced)."""
    if not force and all(venv.exists() for venv in PLUGIN_VENVS):
        return
    with log.open("wb") as out:
        code = subprocess.call(
            [str(MELTANO), "install"], cwd=ROOT, env=base_env(), stdout=out, stderr=out
        )
    if code != 0:
        raise BenchError(f"meltano install exited {code} (log: {log})")


def measure_once(work: Workloads, sandbox: Sandbox, size: int, rep: int) -> dict[str, Any]:
    """One full `meltano run` into an empty PIM."""
    export = work.export(size)
    logs = work.out / "logs"
    logs.mkdir(exist_ok=True)
    sandbox.reset()
    with tempfile.TemporaryDirectory(dir=work.out) as tmp:
        env = {
            **base_env(),
            "MELTANO_DATABASE_URI": f"sqlite:///{Path(tmp) / 'meltano.db'}",
            "TAP_ERP_XML_FILES": json.dumps([str(export)]),
            "TARGET_AKENEO_BASE_URL": sandbox.base_url,
            "TARGET_AKENEO_CLIENT_ID": sandbox.client_id,
            "TARGET_AKENEO_SECRET": sandbox.secret,
            "TARGET_AKENEO_USERNAME": sandbox.username,
            "TARGET_AKENEO_PASSWORD": sandbox.password,
            "TARGET_AKENEO_MAPPING_FILE": str(MAPPING),
            "TARGET_AKENEO_CACHE_PATH": str(Path(tmp) / "cache.sqlite"),
            "TARGET_AKENEO_DEAD_LETTER_PATH": str(Path(tmp) / "dead-letter.jsonl"),
            "TARGET_AKENEO_RUN_REPORT_PATH": str(Path(tmp) / "run-report.json"),
        }
        wall, peaks = run_tree(
            [str(MELTANO), "run", "tap-erp-xml", "target-akeneo"],
            log=logs / f"meltano-{label(size)}-{rep}.log",
            roles=ROLES,
            env=env,
            cwd=ROOT,
        )
    written = int(sandbox.stats().get("products_total", 0))
    if written != size:
        raise BenchError(f"meltano run left {written} of {size} products in the PIM")
    return {
        "products": size,
        "seconds": wall,
        "pps": size / wall,
        "meltano_peak_mb": peaks.get("meltano", 0.0),
        "tap_peak_mb": peaks.get("tap-erp-xml", 0.0),
        "target_peak_mb": peaks.get("target-akeneo", 0.0),
    }


def measure(work: Workloads, sandbox: Sandbox, size: int, reps: int) -> dict[str, Any]:
    """Median figures of `reps` full runs."""
    runs = [measure_once(work, sandbox, size, rep) for rep in range(reps)]
    return summarise(size, runs)
