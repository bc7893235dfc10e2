"""Launcher that runs one command and reports its own rusage, for clean peak-memory figures.

On Linux a child's `ru_maxrss` includes the memory of the process it was forked from (the
parent's pages count until `exec`), so a harness holding payloads in memory would inflate
every figure. This small, fresh process forks the measured command instead.

Usage: python bench/spawn.py RESULT.json COMMAND [ARGS...] (stdin/stdout/stderr inherited)
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path


def main() -> int:
    result, command = Path(sys.argv[1]), sys.argv[2:]
    started = time.perf_counter()
    pid = os.posix_spawnp(command[0], command, os.environ)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - started
    figures = {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "peak_mb": usage.ru_maxrss / 1024,
    }
    result.write_text(json.dumps(figures), encoding="utf-8")
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main())
