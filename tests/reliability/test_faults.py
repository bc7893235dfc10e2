"""10,000 products through `meltano run` while the PIM throttles, fails, drops and stalls."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from akeneo_sandbox.testing import SandboxProcess
from tests.reliability.leaks import LeakScanner
from tests.reliability.pipeline import FAST_RETRIES, collect, file_bookmarks, read_files, state
from tests.reliability.products import UNKNOWN_COLOUR, generate, write_export
from tests.reliability.reconcile import expected_rejection, reconcile
from tests.reliability.tally import ScenarioResult
from tests.support import MeltanoProject

pytestmark = pytest.mark.reliability

PRODUCTS = 10_000
FAULTS = "429=0.04,500=0.02,502=0.02,503=0.02,reset=0.03,slow=0.02"
# Seed 39 draws every kind (and both 429 variants) at least twice in the first 70 requests.
FAULT_KINDS = ("429", "500", "502", "503", "reset", "slow")


def token_grants(sandbox: SandboxProcess) -> int:
    rows = sandbox.stats()["requests"]
    return sum(
        int(row["count"])
        for row in rows
        if row["route"].startswith("/api/oauth") and int(row["status"]) == 200
    )


def test_every_product_arrives_or_is_dead_lettered_under_faults(
    sandboxes: Callable[..., SandboxProcess],
    connect: Callable[[SandboxProcess], MeltanoProject],
    tmp_path: Path,
    leaks: LeakScanner,
    scenario: ScenarioResult,
) -> None:
    scenario.scenario = "Faults: 429 (with/without Retry-After), 5xx, resets, slow, 3 s tokens"
    scenario.products = PRODUCTS
    products = generate(PRODUCTS, seed=11, refused_every=250)
    half = PRODUCTS // 2
    files = [
        write_export(tmp_path / "erp" / "export-1.xml", products[:half]),
        write_export(tmp_path / "erp" / "export-2.xml", products[half:]),
    ]
    # Slow answers (2 s) outlast the target's 1 s timeout: their outcome is unknown to it.
    sandbox = sandboxes(faults=FAULTS, token_ttl=3, seed=39, slow_seconds=2.0)
    project = connect(sandbox)
    read_files(project, files)
    project.env.update(FAST_RETRIES)
    since = time.time()

    result = project.run("run", "tap-erp-xml", "target-akeneo", timeout=600)

    collect(leaks, project, since, [("stdout", result.stdout), ("stderr", result.stderr)])
    assert result.returncode == 0, result.stderr[-4000:]
    faults = sandbox.stats()["faults_injected"]
    scenario.faults = {kind: int(count) for kind, count in faults.items()}
    assert all(faults.get(kind, 0) > 0 for kind in FAULT_KINDS), faults
    grants = token_grants(sandbox)
    assert grants > 1  # the 3 s token expired during the run

    dead = project.dead_letters()
    outcome = reconcile(products, sandbox.all_products(), dead)
    scenario.in_pim, scenario.dead_letter = outcome.in_pim, outcome.dead_letter
    scenario.lost = len(outcome.lost)
    assert outcome.lost == []
    assert outcome.wrong == []
    assert outcome.refused_but_in_pim == []
    # A valid product may only be dead-lettered because the PIM never answered in time.
    assert all(": retries_exhausted:" in r for r in outcome.unexpected_rejections), (
        outcome.unexpected_rejections[:5]
    )
    refused = {p.sku for p in products if not p.accepted}
    assert {e["identifier"] for e in dead if expected_rejection(e, UNKNOWN_COLOUR)} == refused

    report = json.loads(project.run_report.read_text(encoding="utf-8"))
    parts = report["created"] + report["updated"] + report["unchanged"] + report["rejected"]
    assert report["received"] == parts == PRODUCTS, report
    assert report["rejected"] == len(dead)
    assert report["retries"] > 0
    assert sorted(file_bookmarks(state(project))) == sorted(str(f) for f in files)
    scenario.note = (
        f"{report['retries']} retries, {grants} token grants, {len(refused)} refused by the"
        f" PIM (unknown colour), target {report['duration_seconds']:.0f} s"
    )
    scenario.leak_sources_scanned = leaks.assert_clean()
