"""The target SIGKILLed mid-run: state never runs ahead of the PIM, the rerun completes it."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from akeneo_sandbox.testing import SandboxProcess
from tests.reliability.leaks import LeakScanner
from tests.reliability.pipeline import (
    collect,
    file_bookmarks,
    find_target,
    read_files,
    replication_value,
    start_run,
    state,
    wait_until,
)
from tests.reliability.products import comparable, generate, write_export
from tests.reliability.reconcile import reconcile
from tests.reliability.tally import ScenarioResult
from tests.support import MeltanoProject

pytestmark = pytest.mark.reliability

FILES = 6
PER_FILE = 500
SEED = 23


def test_sigkill_of_the_target_then_rerun_loses_nothing(
    sandboxes: Callable[..., SandboxProcess],
    connect: Callable[[SandboxProcess], MeltanoProject],
    tmp_path: Path,
    leaks: LeakScanner,
    scenario: ScenarioResult,
) -> None:
    scenario.scenario = "Crash: target SIGKILLed at a seeded random point, then rerun"
    scenario.products = FILES * PER_FILE
    # One nightly export per day: each file's products changed after the previous file's.
    by_file = {
        tmp_path / "erp" / f"export-{n + 1}.xml": generate(
            PER_FILE, seed=SEED + n, first=1 + n * PER_FILE, day=n
        )
        for n in range(FILES)
    }
    products = [p for batch in by_file.values() for p in batch]
    for path, batch in by_file.items():
        write_export(path, batch)
    files = list(by_file)
    sandbox = sandboxes()
    project = connect(sandbox)
    since = time.time()
    # A first, complete run over one file, so the state holds something before the crash.
    read_files(project, files[:1])
    first = project.run("run", "tap-erp-xml", "target-akeneo", timeout=300)
    assert first.returncode == 0, first.stderr[-4000:]
    assert sorted(file_bookmarks(state(project))) == [str(files[0])]
    written_before = int(sandbox.stats()["products_written"])
    kill_after = random.Random(SEED).randrange(PER_FILE // 2, (FILES - 2) * PER_FILE)

    read_files(project, files)
    crashed = start_run(project, tmp_path / "crash.stdout", tmp_path / "crash.stderr")
    target = find_target(crashed)
    wait_until(
        lambda: (
            int(sandbox.stats()["products_written"]) - written_before >= kill_after
            or not target.is_running()
        ),
        timeout=240,
        what=f"{kill_after} products written",
    )
    assert target.is_running(), "the target finished before the crash point"
    target.kill()
    crashed.wait(timeout=240)

    assert crashed.returncode != 0
    saved = state(project)
    claimed = file_bookmarks(saved)
    in_pim = {p["identifier"]: p for p in sandbox.all_products()}
    # The rerun drops records older than the saved replication key value: they must be in.
    bookmark = replication_value(saved)
    if bookmark is not None:
        older = [p.sku for p in products if p.updated_at.isoformat() < bookmark]
        assert [sku for sku in older if sku not in in_pim] == []
    assert str(files[0]) in claimed  # the earlier success is not forgotten
    for name in claimed:
        batch = by_file[Path(name)]
        missing = [p.sku for p in batch if p.sku not in in_pim]
        assert missing == [], f"state claims {name} but the PIM lacks {missing[:5]}"
        assert all(comparable(in_pim[p.sku]) == p.expected() for p in batch)
    at_crash = len(in_pim)

    rerun = project.run("run", "tap-erp-xml", "target-akeneo", timeout=300)

    collect(
        leaks,
        project,
        since,
        [
            ("first stdout", first.stdout),
            ("first stderr", first.stderr),
            ("crash stdout", (tmp_path / "crash.stdout").read_text(encoding="utf-8")),
            ("crash stderr", (tmp_path / "crash.stderr").read_text(encoding="utf-8")),
            ("rerun stdout", rerun.stdout),
            ("rerun stderr", rerun.stderr),
        ],
    )
    assert rerun.returncode == 0, rerun.stderr[-4000:]
    outcome = reconcile(products, sandbox.all_products(), project.dead_letters())
    scenario.in_pim, scenario.dead_letter = outcome.in_pim, outcome.dead_letter
    scenario.lost = len(outcome.lost)
    assert outcome.problems() == []
    assert sorted(file_bookmarks(state(project))) == sorted(str(f) for f in files)
    scenario.note = (
        f"killed after ~{kill_after} writes: {at_crash} products in PIM, state claimed "
        f"{len(claimed)} of {FILES} files; rerun completed"
    )
    scenario.leak_sources_scanned = leaks.assert_clean()
