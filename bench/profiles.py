"""Profiles of the tap and the target with pyinstrument, for results that miss their targets.

pyinstrument samples the main thread only: for the target that is reading, mapping and
batching; time spent waiting on the PIM in worker threads does not show.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from measure import run_process
from pyinstrument.session import Session
from section_target import Sandbox, credentials
from workloads import PYTHON, TAP, TARGET, Workloads, label

HOT_FUNCTIONS = 15
TREE_LINES = 45


@dataclass(frozen=True)
class Profile:
    """Hot functions by self time, and the top of the call tree."""

    program: str
    seconds: float
    hot: list[tuple[float, str]]
    tree: str


def _hot_functions(session: Session) -> list[tuple[float, str]]:
    root = session.root_frame()
    own: dict[str, float] = defaultdict(float)
    stack = [root] if root is not None else []
    while stack:
        frame = stack.pop()
        stack.extend(frame.children)
        if frame.is_synthetic:
            continue
        where = f"{frame.function} ({frame.file_path_short}:{frame.line_no})"
        own[where] += frame.total_self_time
    ranked = sorted(own.items(), key=lambda item: item[1], reverse=True)
    return [(seconds, where) for where, seconds in ranked[:HOT_FUNCTIONS]]


def _profile(command: list[str], program: str, log: Path, stdin: Path | None) -> Profile:
    session_file = log.with_suffix(".pyisession")
    wrapped = [PYTHON, "-m", "pyinstrument", "-r", "pyisession", "-o", str(session_file)]
    run_process([*wrapped, *command], log=log, stdin=stdin)
    session = Session.load(str(session_file))
    render = ["--load", str(session_file), "-r", "text", "--no-color", "--no-unicode"]
    tree = subprocess.run(
        [PYTHON, "-m", "pyinstrument", *render],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    top = "\n".join(tree.strip().splitlines()[:TREE_LINES])
    return Profile(program, session.duration, _hot_functions(session), top)


def profile_tap(work: Workloads, size: int) -> Profile:
    """Profile of `tap-erp-xml` over the export of `size` products."""
    config = work.tap_config(size)
    log = work.out / "logs" / f"profile-tap-{label(size)}.log"
    log.parent.mkdir(exist_ok=True)
    command = [str(TAP), "--config", str(config)]
    return _profile(command, f"tap-erp-xml, {label(size)} products", log, None)


def profile_target(work: Workloads, sandbox: Sandbox, size: int) -> Profile:
    """Profile of `target-akeneo` loading `size` products into an empty sandbox."""
    singer, _ = work.singer(size)
    log = work.out / "logs" / f"profile-target-{label(size)}.log"
    log.parent.mkdir(exist_ok=True)
    sandbox.reset()
    with tempfile.TemporaryDirectory(dir=work.out) as tmp:
        config = work.target_config(Path(tmp), sandbox.base_url, credentials(sandbox))
        command = [str(TARGET), "--config", str(config)]
        return _profile(command, f"target-akeneo, {label(size)} products", log, singer)


def as_dict(profile: Profile) -> dict[str, Any]:
    """JSON form of a profile."""
    return {
        "program": profile.program,
        "seconds": profile.seconds,
        "hot": [{"self_seconds": s, "function": f} for s, f in profile.hot],
        "tree": profile.tree,
    }
