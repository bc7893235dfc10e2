"""Measuring processes: wall time, CPU time and peak memory, the same way for every figure.

A single process is measured by the kernel (`os.wait4` rusage: `ru_maxrss` is KiB on Linux),
through the small launcher bench/spawn.py so that the harness's own memory does not count.
A process tree (meltano and the plugins it spawns) is sampled with psutil, since rusage
of a child only covers processes that child waited for itself.
"""

from __future__ import annotations

import contextlib
import json
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

SAMPLE_SECONDS = 0.2
SPAWN = Path(__file__).resolve().parent / "spawn.py"


class BenchError(Exception):
    """A measured run failed; the message names the command and its last output."""


@dataclass(frozen=True)
class ProcessRun:
    """One finished process."""

    wall: float
    cpu: float
    peak_mb: float
    stderr: str


def _tail(path: Path, limit: int = 4000) -> str:
    data = path.read_bytes() if path.exists() else b""
    return data[-limit:].decode("utf-8", "replace")


def run_process(
    command: Sequence[str],
    *,
    log: Path,
    stdin: Path | None = None,
    stdout: Path | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 3600,
    tree_role: str | None = None,
) -> ProcessRun:
    """Run `command` to completion; stdout goes to a file (default /dev/null), stderr to `log`.

    Wall time, CPU time (the command's and its reaped children's) and peak memory are
    measured by bench/spawn.py around the command. With `tree_role`, peak memory is instead
    the sampled peak of the summed memory of every process whose command line names it
    (a program that forks helpers: the kernel's figure is the largest one, not the sum).
    """
    figures_file = log.with_suffix(".rusage.json")
    launcher = [sys.executable, str(SPAWN), str(figures_file), *command]
    with contextlib.ExitStack() as files:
        source = files.enter_context(stdin.open("rb")) if stdin else subprocess.DEVNULL
        sink = files.enter_context(stdout.open("wb")) if stdout else subprocess.DEVNULL
        errors = files.enter_context(log.open("wb"))
        process = subprocess.Popen(
            launcher, stdin=source, stdout=sink, stderr=errors, env=env, cwd=cwd
        )
        sampler = TreeSampler(process.pid, (tree_role,) if tree_role else (), root="launcher")
        with sampler if tree_role else contextlib.nullcontext():
            code = _wait(process, timeout)
    stderr = _tail(log)
    if code != 0:
        last = stderr.strip().splitlines()[-1:] or ["(no output)"]
        raise BenchError(f"{command[0]} exited {code}: {last[0]} (log: {log})")
    figures = json.loads(figures_file.read_text(encoding="utf-8"))
    peak = figures["peak_mb"]
    if tree_role:
        peak = max(peak, sampler.peaks_mb.get(tree_role, 0.0))
    return ProcessRun(wall=figures["wall"], cpu=figures["cpu"], peak_mb=peak, stderr=stderr)


def _wait(process: subprocess.Popen[bytes], timeout: float) -> int:
    """The exit code; -9 after killing a process that outlived `timeout`."""
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return -9


def _role(process: psutil.Process, roles: Iterable[str]) -> str | None:
    with contextlib.suppress(psutil.Error):
        line = " ".join(process.cmdline())
        return next((role for role in roles if role in line), None)
    return None


@dataclass
class TreeSampler:
    """Peak resident memory of a process tree: the root as `root`, children by role.

    A child's role is the first of `roles` found in its command line.
    """

    pid: int
    roles: tuple[str, ...]
    root: str = "meltano"
    peaks_mb: dict[str, float] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def _sample(self) -> None:
        """One sample; the processes of one role (a tap and its forked helpers) are summed."""
        try:
            root = psutil.Process(self.pid)
            tree = [root, *root.children(recursive=True)]
        except psutil.Error:
            return
        sums: dict[str, float] = {}
        for process in tree:
            role = self.root if process is root else _role(process, self.roles)
            if role is None:
                continue
            with contextlib.suppress(psutil.Error):
                sums[role] = sums.get(role, 0.0) + process.memory_info().rss / 2**20
        for role, rss in sums.items():
            self.peaks_mb[role] = max(self.peaks_mb.get(role, 0.0), rss)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(SAMPLE_SECONDS)

    def __enter__(self) -> TreeSampler:
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


def run_tree(
    command: Sequence[str],
    *,
    log: Path,
    roles: tuple[str, ...],
    env: Mapping[str, str],
    cwd: Path,
    timeout: float = 3600,
) -> tuple[float, dict[str, float]]:
    """Run a command that spawns others; wall time and peak MB per role."""
    with log.open("wb") as errors:
        started = time.perf_counter()
        process = subprocess.Popen(
            list(command), stdout=errors, stderr=subprocess.STDOUT, env=dict(env), cwd=cwd
        )
        with TreeSampler(process.pid, roles) as sampler:
            code = _wait(process, timeout)
        wall = time.perf_counter() - started
    if code != 0:
        tail = _tail(log).strip().splitlines()[-1:] or ["(no output)"]
        raise BenchError(f"{command[0]} exited {code}: {tail[0]} (log: {log})")
    return wall, sampler.peaks_mb


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def median(values: Iterable[float]) -> float:
    """Median of the repetitions of one figure."""
    return float(statistics.median(list(values)))


def summarise(size: int, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Median of every numeric figure over the repetitions, plus the repetitions themselves.

    A ratio's median is the median of the per-repetition ratios, each taken within one run.
    """
    keys = [k for k, v in runs[0].items() if isinstance(v, int | float)]
    figures = {k: median(r[k] for r in runs) for k in keys}
    return {"size": size, "reps": len(runs), **figures, "runs": runs}
