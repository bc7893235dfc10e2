"""Running the tap's CLI directly, with its peak memory measured and its damage capped."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support import ACCEPTANCE

TAP = Path(sys.executable).parent / "tap-erp-xml"
# A runaway expansion must fail the test, not take the machine down with it.
ADDRESS_SPACE_LIMIT = 3 * 1024**3


def acceptance_config(files: list[Path], **settings: Any) -> dict[str, Any]:
    """The acceptance tap configuration, reading `files`, plus extra settings."""
    config = json.loads((ACCEPTANCE / "tap-config.json").read_text(encoding="utf-8"))
    config["files"] = [str(f) for f in files]
    config.update(settings)
    return dict(config)


@dataclass(frozen=True)
class TapRun:
    """Exit code, outputs and peak resident memory of one tap process."""

    returncode: int
    stdout: str
    stderr: str
    peak_rss_mb: float

    @property
    def records(self) -> list[dict[str, Any]]:
        messages = (json.loads(line) for line in self.stdout.splitlines() if line.strip())
        return [m["record"] for m in messages if m.get("type") == "RECORD"]

    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if "| ERROR" in line]

    def lines_naming(self, name: str) -> list[str]:
        """The ERROR lines that name `name`."""
        return [line for line in self.error_lines() if name in line]


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_LIMIT, ADDRESS_SPACE_LIMIT))


def run_tap(config: dict[str, Any], work: Path, timeout: float = 120) -> TapRun:
    """Run `tap-erp-xml --config`, outputs to files, peak RSS from the kernel's rusage."""
    work.mkdir(parents=True, exist_ok=True)
    config_path = work / "tap-config.json"
    config_path.write_text(json.dumps(config), encoding="utf-8")
    out, err = work / "tap.stdout", work / "tap.stderr"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            [str(TAP), "--config", str(config_path)],
            stdout=stdout,
            stderr=stderr,
            cwd=work,
            preexec_fn=_limit_memory,
        )
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            process.kill()
            pid, status, usage = os.wait4(process.pid, 0)
            break
        time.sleep(0.02)
    process.returncode = os.waitstatus_to_exitcode(status)
    return TapRun(
        returncode=process.returncode,
        stdout=out.read_text(encoding="utf-8", errors="replace"),
        stderr=err.read_text(encoding="utf-8", errors="replace"),
        peak_rss_mb=usage.ru_maxrss / 1024,
    )
