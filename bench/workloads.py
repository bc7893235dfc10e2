"""Inputs of the benchmarks, made once per size and reused: exports, tap configs, Singer files.

Everything lands in the output folder (bench/out/ by default, git-ignored).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generate import Options, generate
from measure import BenchError

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
ACCEPTANCE = ROOT / "tests" / "data" / "acceptance"
CATALOG = ACCEPTANCE / "catalog.json"
MAPPING = ACCEPTANCE / "mapping.yml"
BIN = Path(sys.executable).parent
PYTHON = sys.executable
TAP = BIN / "tap-erp-xml"
TARGET = BIN / "target-akeneo"
SANDBOX = BIN / "akeneo-sandbox"
MELTANO = BIN / "meltano"
SEED = 7
RECORD_MARKERS = (b'"type":"RECORD"', b'"type": "RECORD"')
# The tap's end-of-stream log line; the count of emitted records is taken from it.
EMITTED = re.compile(r"(\d[\d,_]*)\s+records?\s+emitted|emitted[\"':=\s]+(\d[\d,_]*)", re.I)


def label(size: int) -> str:
    """Human size label: 10k, 1M."""
    if size >= 1_000_000 and size % 1_000_000 == 0:
        return f"{size // 1_000_000}M"
    if size >= 1000 and size % 1000 == 0:
        return f"{size // 1000}k"
    return str(size)


_COUNTS: dict[int, int] = {}


@dataclass(frozen=True)
class Workloads:
    """Factory and cache of generated inputs under `out`."""

    out: Path

    def export(self, size: int) -> Path:
        """The generated export of `size` products (made once)."""
        path = self.out / f"erp-{label(size)}-seed{SEED}.xml"
        if not path.exists():
            partial = path.with_suffix(".partial")
            generate(Options(partial, size, SEED))
            partial.rename(path)
        return path

    def tap_config(self, size: int) -> Path:
        """Tap config: the acceptance stream definition over the generated export."""
        config = json.loads((ACCEPTANCE / "tap-config.json").read_text(encoding="utf-8"))
        config["files"] = [str(self.export(size))]
        path = self.out / f"tap-{label(size)}.json"
        path.write_text(json.dumps(config, indent=2), encoding="utf-8")
        return path

    def singer(self, size: int) -> tuple[Path, int]:
        """The tap's Singer output for `size` products (made once) and its RECORD count."""
        path = self.out / f"erp-{label(size)}-seed{SEED}.singer"
        if not path.exists():
            partial = path.with_suffix(".partial")
            config = self.tap_config(size)
            with partial.open("wb") as sink:
                result = subprocess.run(
                    [str(TAP), "--config", str(config)],
                    stdout=sink,
                    stderr=subprocess.PIPE,
                    check=False,
                )
            if result.returncode != 0:
                tail = result.stderr.decode("utf-8", "replace").strip().splitlines()[-1:]
                raise BenchError(f"tap-erp-xml failed making {path.name}: {tail}")
            partial.rename(path)
        return path, count_records(path)

    def counted(self, size: int) -> int:
        """RECORD messages the tap writes for `size` products, counted through a pipe (once)."""
        if size not in _COUNTS:
            command = [str(TAP), "--config", str(self.tap_config(size))]
            with subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
            ) as process:
                assert process.stdout is not None
                _COUNTS[size] = sum(
                    1 for line in process.stdout if any(m in line[:40] for m in RECORD_MARKERS)
                )
            if process.returncode != 0:
                raise BenchError(f"tap-erp-xml exited {process.returncode} counting {size}")
        return _COUNTS[size]

    def target_config(self, work: Path, base_url: str, credentials: Mapping[str, str]) -> Path:
        """Target config against a sandbox; cache, dead letters and report live in `work`."""
        config: dict[str, Any] = {
            "base_url": base_url,
            **credentials,
            "mapping_file": str(MAPPING),
            "cache_path": str(work / "cache.sqlite"),
            "dead_letter_path": str(work / "dead-letter.jsonl"),
            "run_report_path": str(work / "run-report.json"),
            "skip_unchanged": True,
        }
        path = work / "target.json"
        path.write_text(json.dumps(config), encoding="utf-8")
        path.chmod(0o600)
        return path


def count_records(path: Path) -> int:
    """RECORD messages in a Singer file."""
    with path.open("rb") as lines:
        return sum(1 for line in lines if any(m in line[:40] for m in RECORD_MARKERS))


def emitted_records(log: str) -> int | None:
    """Records the tap says it emitted, from its end-of-stream log line, if it has one."""
    found = EMITTED.findall(log)
    if not found:
        return None
    first, second = found[-1]
    return int((first or second).replace(",", "").replace("_", ""))
