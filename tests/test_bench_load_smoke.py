"""bench/run_load.py at tiny sizes: each load section measures something consistent and
replaces only its own part of the results file.

No timing is asserted; only counts and that the other sections of the file stay as they were.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RUN = ROOT / "bench" / "run_load.py"

pytestmark = pytest.mark.slow


def test_load_sections_measure_and_splice(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    results.write_text("# Benchmark results\n\n## Tap\n\nkept as it was\n", encoding="utf-8")
    command = [
        sys.executable,
        str(RUN),
        "--out",
        str(tmp_path),
        "--results",
        str(results),
        "--pim-sizes",
        "300",
        "--naive",
        "5",
        "--memory-sizes",
        "200,400",
        "--profile-sizes",
        "200,400",
        "--delta-size",
        "500",
    ]
    for _ in range(2):
        done = subprocess.run(
            command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
        )
        assert done.returncode == 0, done.stderr[-4000:]
    text = results.read_text(encoding="utf-8")
    assert text.startswith("# Benchmark results\n\n## Tap\n\nkept as it was\n")
    for name in ("memory", "pim", "delta"):
        assert text.count(f"<!-- load:{name} -->") == 1
    found = json.loads((tmp_path / "results-load.json").read_text(encoding="utf-8"))
    [row] = found["pim"]["rows"]
    assert row["target"]["product_requests"] == row["bare"]["product_requests"] == 3
    assert row["limited"]["products"] == 300
    for client in ("target", "bare"):
        # The PIM's measured time per request holds the latency delay and the handler's time.
        fig = row[client]
        assert fig["pim_seconds_lower_bound"] > fig["latency_seconds_lower_bound"] > 0
        assert fig["client_held_per_request"] >= fig["pim_seconds_per_request"]
    assert found["pim"]["naive"]["product_requests"] == 5
    assert [r["size"] for r in found["memory"]["rows"]] == [200, 400]
    delta = found["delta"]
    assert delta["report"]["unchanged"] == delta["size"] - delta["changed"]
    assert delta["product_requests"] == delta["expected_product_requests"]
