"""What the target still holds at the end of a run: tracemalloc's top allocations by line.

    python bench/memprofile.py RESULT.json --config target.json < products.singer

Runs `target-akeneo` in this process with tracemalloc on and takes a snapshot just before
the run report is written (after the last answer is accounted, before files close): what is
alive then is what the run kept. Two sizes give the growth per product (`section_memory`).
"""

from __future__ import annotations

import json
import sys
import tracemalloc
from pathlib import Path
from typing import Any

from target_akeneo.target import TargetAkeneo
from target_akeneo.upsert import Upserter

FRAMES = 1
TOP = 25


def _snapshot_lines(snapshot: tracemalloc.Snapshot) -> list[dict[str, Any]]:
    stats = snapshot.filter_traces(
        [tracemalloc.Filter(inclusive=False, filename_pattern=tracemalloc.__file__)]
    ).statistics("lineno")
    return [
        {
            "where": f"{stat.traceback[0].filename}:{stat.traceback[0].lineno}",
            "bytes": stat.size,
            "blocks": stat.count,
        }
        for stat in stats[:TOP]
    ]


def main() -> int:
    result = Path(sys.argv[1])
    taken: dict[str, Any] = {}
    finish = Upserter.finish

    def finish_with_snapshot(self: Upserter) -> dict[str, Any]:
        self.settle()
        snapshot = tracemalloc.take_snapshot()
        current, peak = tracemalloc.get_traced_memory()
        taken.update(traced_bytes=current, traced_peak_bytes=peak, top=_snapshot_lines(snapshot))
        return finish(self)

    Upserter.finish = finish_with_snapshot  # type: ignore[method-assign]
    tracemalloc.start(FRAMES)
    sys.argv = ["target-akeneo", *sys.argv[2:]]
    try:
        TargetAkeneo.cli()
    except SystemExit as exit_:
        if exit_.code not in (0, None):
            raise
    result.write_text(json.dumps(taken, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
