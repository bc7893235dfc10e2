"""The PIM unreachable at start, and gone for good mid-run: a clear error, no false success."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from akeneo_sandbox.testing import SandboxProcess, free_port
from tests.reliability.leaks import Credentials, LeakScanner
from tests.reliability.pipeline import (
    collect,
    file_bookmarks,
    point_at,
    read_files,
    saved_states,
    start_run,
    state,
    wait_until,
)
from tests.reliability.products import generate, write_export
from tests.reliability.tally import ScenarioResult
from tests.support import MeltanoProject

pytestmark = pytest.mark.reliability

# Few, quick retries: a PIM that is gone stays gone (integer setting: see the report).
QUICK_GIVE_UP = {"TARGET_AKENEO_MAX_RETRIES": "2"}


def error_lines_naming(stderr: str, url: str) -> list[str]:
    return [line for line in stderr.splitlines() if url in line and "error" in line.lower()]


def test_pim_down_at_start_fails_naming_the_url_and_saves_no_state(
    pipeline: MeltanoProject,
    creds: Credentials,
    tmp_path: Path,
    leaks: LeakScanner,
    scenario: ScenarioResult,
) -> None:
    scenario.scenario = "PIM down at start (closed loopback port)"
    products = generate(20, seed=3)
    scenario.products = len(products)
    read_files(pipeline, [write_export(tmp_path / "erp" / "export.xml", products)])
    url = f"http://127.0.0.1:{free_port()}"
    pipeline.env.update(
        TARGET_AKENEO_BASE_URL=url,
        TARGET_AKENEO_CLIENT_ID=creds.client_id,
        TARGET_AKENEO_SECRET=creds.secret,
        TARGET_AKENEO_USERNAME=creds.username,
        TARGET_AKENEO_PASSWORD=creds.password,
        **QUICK_GIVE_UP,
    )
    since = time.time()

    result = pipeline.run("run", "tap-erp-xml", "target-akeneo", timeout=300)

    collect(leaks, pipeline, since, [("stdout", result.stdout), ("stderr", result.stderr)])
    assert result.returncode != 0
    assert error_lines_naming(result.stderr, url), result.stderr[-4000:]
    assert "Traceback" not in result.stderr, result.stderr[-4000:]
    assert saved_states(pipeline) == ({}, {})
    scenario.lost = 0  # nothing was read as delivered: the state holds nothing
    scenario.note = "exit non-zero, error names the URL, no state saved"
    scenario.leak_sources_scanned = leaks.assert_clean()


def test_pim_gone_mid_run_fails_naming_the_url_and_claims_nothing_unconfirmed(
    sandboxes: Callable[..., SandboxProcess],
    pipeline: MeltanoProject,
    creds: Credentials,
    tmp_path: Path,
    leaks: LeakScanner,
    scenario: ScenarioResult,
) -> None:
    scenario.scenario = "PIM gone for good mid-run (sandbox SIGKILLed)"
    first_file = generate(100, seed=5, day=0)
    later = [generate(400, seed=6 + n, first=101 + 400 * n, day=1 + n) for n in range(4)]
    scenario.products = len(first_file) + sum(len(batch) for batch in later)
    files = [write_export(tmp_path / "erp" / "export-0.xml", first_file)]
    files += [
        write_export(tmp_path / "erp" / f"export-{n + 1}.xml", b) for n, b in enumerate(later)
    ]
    sandbox = sandboxes()
    point_at(pipeline, sandbox, creds)
    pipeline.env.update(QUICK_GIVE_UP)
    since = time.time()
    read_files(pipeline, files[:1])
    first = pipeline.run("run", "tap-erp-xml", "target-akeneo", timeout=300)
    assert first.returncode == 0, first.stderr[-4000:]
    completed_before, _ = saved_states(pipeline)
    written_before = int(sandbox.stats()["products_written"])

    read_files(pipeline, files)
    running = start_run(pipeline, tmp_path / "run.stdout", tmp_path / "run.stderr")
    wait_until(
        lambda: (
            int(sandbox.stats()["products_written"]) > written_before + 200
            or running.poll() is not None
        ),
        timeout=240,
        what="the second run to write products",
    )
    assert running.poll() is None, "the run ended before the PIM went away"
    sandbox.kill()
    running.wait(timeout=300)

    stderr = (tmp_path / "run.stderr").read_text(encoding="utf-8")
    collect(
        leaks,
        pipeline,
        since,
        [
            ("first stdout", first.stdout),
            ("first stderr", first.stderr),
            ("stdout", (tmp_path / "run.stdout").read_text(encoding="utf-8")),
            ("stderr", stderr),
        ],
    )
    assert running.returncode != 0
    assert error_lines_naming(stderr, sandbox.base_url), stderr[-4000:]
    completed_after, _ = saved_states(pipeline)
    assert completed_after == completed_before  # nothing recorded as a success
    sandbox.start()  # same database file: what the PIM had confirmed before it died
    in_pim = {p["identifier"] for p in sandbox.all_products()}
    by_name = {str(path): batch for path, batch in zip(files, [first_file, *later], strict=True)}
    for name in file_bookmarks(state(pipeline)):
        missing = [p.sku for p in by_name[name] if p.sku not in in_pim]
        assert missing == [], f"state claims {name} but the PIM lacks {missing[:5]}"
    scenario.in_pim = len(in_pim)
    scenario.note = (
        f"exit {running.returncode}, error names the URL; {len(in_pim)} products confirmed "
        "before the PIM died, completed state unchanged"
    )
    scenario.leak_sources_scanned = leaks.assert_clean()
