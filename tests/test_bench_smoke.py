"""The benchmark harness at its smoke size: every section runs and reports sane figures.

Benchmarks are not tests: no timing is asserted here, only that each section measured
something, that the PIM load figures are consistent, and that RESULTS.md was written
to the temporary location, never over bench/RESULTS.md.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
RUN = ROOT / "bench" / "run.py"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def smoke(
    tmp_path_factory: pytest.TempPathFactory, meltano_installed: None
) -> tuple[dict[str, Any], Path]:
    """One smoke run of every section; its end-to-end section runs the installed plugins (it
    would otherwise install them itself, alongside other tests using them)."""
    out = tmp_path_factory.mktemp("bench-smoke")
    committed = ROOT / "bench" / "RESULTS.md"
    before = committed.read_bytes() if committed.exists() else None
    result = subprocess.run(
        [sys.executable, str(RUN), "--smoke", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    after = committed.read_bytes() if committed.exists() else None
    assert after == before, "the smoke run must not touch bench/RESULTS.md"
    return json.loads(result.stdout.strip().splitlines()[-1]), out


def test_tap_section_measures_the_tap_and_the_bare_loop(
    smoke: tuple[dict[str, Any], Path],
) -> None:
    summary, _ = smoke
    [row] = summary["tap"]
    assert row["records"] == row["size"] == 300
    assert row["tap_rps"] > 0
    assert row["lxml_eps"] > 0
    assert row["ratio"] > 0
    assert row["tap_peak_mb"] > 0


def test_target_section_counts_pim_requests(smoke: tuple[dict[str, Any], Path]) -> None:
    summary, _ = smoke
    [row] = summary["target"]
    assert row["products"] == 300
    assert row["target_pps"] > 0
    assert row["bare_pps"] > 0
    assert 1 <= row["requests_per_100"] <= 2
    assert row["bare_requests"] == 3
    assert row["structure_requests"] > 0
    assert row["rerun_product_requests"] == 0
    assert row["cpu_ms_per_product"] > 0


def test_end_to_end_section_samples_every_process(smoke: tuple[dict[str, Any], Path]) -> None:
    summary, _ = smoke
    row = summary["e2e"]
    assert row["products"] == 300
    assert row["seconds"] > 0
    assert row["meltano_peak_mb"] > 0
    assert row["tap_peak_mb"] > 0
    assert row["target_peak_mb"] > 0


def test_scaling_and_sandbox_sections(smoke: tuple[dict[str, Any], Path]) -> None:
    summary, _ = smoke
    assert [r["size"] for r in summary["scaling"]["tap"]] == [100, 300]
    assert all(r["seconds"] > 0 and r["peak_mb"] > 0 for r in summary["scaling"]["tap"])
    assert all(r["seconds"] > 0 for r in summary["scaling"]["target"])
    assert summary["sandbox"]["start_seconds"] > 0
    assert summary["sandbox"]["patch100_ms"] > 0


def test_results_file_has_every_section_and_a_verdict_per_target(
    smoke: tuple[dict[str, Any], Path],
) -> None:
    summary, out = smoke
    results = Path(summary["results"])
    assert results.parent == out
    text = results.read_text(encoding="utf-8")
    for heading in ("## Tap", "## Target", "## End to end", "## Scaling", "## Sandbox", "## Media"):
        assert heading in text
    assert summary["checks"]
    for check in summary["checks"]:
        assert f"| {check['what']} |" in text
        assert ("PASS" if check["passed"] else "MISS") in text


def test_merchant_section_compares_the_preset_with_stream_maps(
    smoke: tuple[dict[str, Any], Path],
) -> None:
    summary, _ = smoke
    row = summary["merchant"]
    assert row["records"] == row["size"] == row["records_compared"] == 300
    assert row["preset_rps"] > 0
    assert row["maps_rps"] > 0
    assert row["vs_maps"] == pytest.approx(row["preset_rps"] / row["maps_rps"], rel=0.5)
    # The ceiling (plain fields, no stream maps) is measured in the same repetitions.
    assert row["plain_rps"] > 0
    assert row["ceiling_vs_maps"] == pytest.approx(row["plain_rps"] / row["maps_rps"], rel=0.5)
    assert {c["section"] for c in summary["checks"]} >= {"merchant"}


def test_values_section_compares_changed_values_with_whole_products(
    smoke: tuple[dict[str, Any], Path],
) -> None:
    summary, _ = smoke
    row = summary["values"]
    assert (row["size"], row["changed"]) == (300, 15)
    delta, whole = row["nightly"]
    assert (delta["send"], whole["send"]) == ("changed_values", "whole_product")
    assert delta["products_sent"] == whole["products_sent"] == 15
    assert delta["values_sent"] == 15  # the price only
    assert whole["values_sent"] > delta["values_sent"]
    assert 0 < delta["bytes_sent"] < whole["bytes_sent"]
    assert [s["size"] for s in row["stores"]] == [300, 300, 1000]
    assert all(s["bytes_per_product"] > 0 for s in row["stores"])


def test_media_section_counts_image_and_pim_media_requests(
    smoke: tuple[dict[str, Any], Path],
) -> None:
    summary, _ = smoke
    row = summary["media"]
    first, rerun = row["first"], row["rerun"]
    assert (first["image_200"], first["pim_media_requests"], first["uploaded"]) == (50, 50, 50)
    # The re-run's image requests are all conditional and answered 304; the PIM gets none.
    assert (rerun["image_304"], rerun["pim_media_requests"], rerun["unchanged"]) == (50, 0, 50)
    assert {c["section"] for c in summary["checks"]} >= {"media"}


def test_a_partial_run_is_spliced_in_place() -> None:
    """A run of one section replaces that section's rows and table where they stood and
    leaves the rest of RESULTS.md byte for byte, other scripts' marked blocks included."""
    sys.path.insert(0, str(ROOT / "bench"))
    import report

    previous = (
        "# Results\n\n## Method\n\n- Each figure is the median of 3 run(s).\n"
        "- Feed: read twice.\n- Media: one run.\n\n"
        "## Targets from the issues\n\n| section | what |\n|---|---|\n"
        "| tap | a | \n| merchant | old |\n| media | b |\n\n"
        "## Google Merchant feed\n\nold table\n\n## Media\n\nmedia table\n\n"
        "## Profiles\n\nnone\n\n<!-- other: begin -->\n## Other\n\nkept\n<!-- other: end -->\n"
    )
    partial = (
        "# Results\n\nMeasured today.\n\n## Method\n\n- Each figure is the median of 5 run(s).\n"
        "- Feed: read three times.\n\n"
        "## Targets from the issues\n\n| section | what |\n|---|---|\n| merchant | new |\n\n"
        "## Google Merchant feed\n\nnew table\n\n## Profiles\n\nnone\n"
    )
    spliced = report.splice(previous, partial, {"merchant"})
    expected = previous.replace("| merchant | old |", "| merchant | new |")
    expected = expected.replace("read twice", "read three times").replace(
        "old table\n", "new table\n\nMeasured today. (a run of these sections only)\n"
    )
    assert spliced == expected
