"""A stand-in for the `meltano` CLI, to watch what the orchestration runs and when.

`run` records its arguments and environment in `$FAKE_MELTANO_DIR/<suffix>.json`, together with
the other runs it found running while it waited up to `$FAKE_MELTANO_WAIT` seconds for one.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

JOB = {"job_name": "erp-to-pim", "tasks": ["tap-erp-xml target-akeneo"]}
SCHEDULE = {
    "name": "erp-to-pim-nightly",
    "cron_interval": "0 0 * * *",
    "job": {"name": JOB["job_name"]},
}
WATCHED = ("TAP_ERP_XML_FILES", "TARGET_AKENEO_MAX_CONCURRENCY", "MELTANO_SYS_DIR_ROOT")


def run(args: list[str]) -> None:
    folder = Path(os.environ["FAKE_MELTANO_DIR"])
    suffix = next(a.split("=", 1)[1] for a in args if a.startswith("--state-id-suffix="))
    running = folder / f"{suffix}.running"
    running.touch()

    def others() -> list[str]:
        return sorted(p.stem for p in folder.glob("*.running") if p != running)

    deadline = time.monotonic() + float(os.environ.get("FAKE_MELTANO_WAIT", "0"))
    while not others() and time.monotonic() < deadline:
        time.sleep(0.05)
    record = {
        "args": args,
        "env": {name: os.environ.get(name) for name in WATCHED},
        "sys_dir": sorted(p.name for p in Path(os.environ["MELTANO_SYS_DIR_ROOT"]).iterdir()),
        "met": others(),
    }
    (folder / f"{suffix}.json").write_text(json.dumps(record), encoding="utf-8")
    running.unlink()


def main() -> None:
    args = sys.argv[1:]
    if "run" in args:
        run(args)
    else:
        sys.exit(f"fake meltano: unexpected arguments {args}")


if __name__ == "__main__":
    main()
