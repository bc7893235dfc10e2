"""Everyday mistakes: one clear line each, the right exit code, and nothing written."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from akeneo_sandbox.testing import SandboxProcess
from tests.reliability.leaks import LeakScanner
from tests.reliability.pipeline import collect, read_files
from tests.reliability.products import generate, write_export
from tests.reliability.tally import ScenarioResult
from tests.reliability.tap_cli import acceptance_config, run_tap
from tests.support import ACCEPTANCE, MeltanoProject, product_requests

pytestmark = pytest.mark.reliability


def target_errors(stderr: str) -> list[str]:
    return [
        line
        for line in stderr.splitlines()
        if "target-akeneo" in line and ("error" in line.lower()) and "meltano" not in line[:60]
    ]


def test_wrong_credentials_and_bad_mapping_stop_before_writing(
    sandboxes: Callable[..., SandboxProcess],
    connect: Callable[[SandboxProcess], MeltanoProject],
    tmp_path: Path,
    leaks: LeakScanner,
    scenario: ScenarioResult,
) -> None:
    scenario.scenario = "Wrong credentials; mapping naming a missing attribute"
    products = generate(50, seed=8)
    scenario.products = len(products)
    sandbox = sandboxes()
    project = connect(sandbox)
    read_files(project, [write_export(tmp_path / "erp" / "export.xml", products)])
    wrong_secret = f"not-{sandbox.secret}"
    leaks.add_secret(wrong_secret)
    mapping = yaml.safe_load((ACCEPTANCE / "mapping.yml").read_text(encoding="utf-8"))
    values = mapping["products"]["values"]
    values["colour"] = values.pop("color")
    bad_mapping = tmp_path / "mapping.yml"
    bad_mapping.write_text(yaml.safe_dump(mapping), encoding="utf-8")
    since = time.time()

    credentials = project.run(
        "run", "tap-erp-xml", "target-akeneo", env={"TARGET_AKENEO_SECRET": wrong_secret}
    )
    mapped = project.run(
        "run", "tap-erp-xml", "target-akeneo", env={"TARGET_AKENEO_MAPPING_FILE": str(bad_mapping)}
    )

    outputs = [
        ("credentials stdout", credentials.stdout),
        ("credentials stderr", credentials.stderr),
        ("mapping stdout", mapped.stdout),
        ("mapping stderr", mapped.stderr),
    ]
    collect(leaks, project, since, outputs)
    assert credentials.returncode != 0
    assert any("client_id" in line for line in target_errors(credentials.stderr)), (
        credentials.stderr[-3000:]
    )
    assert mapped.returncode != 0
    mapping_lines = [line for line in target_errors(mapped.stderr) if "colour" in line]
    assert len(mapping_lines) == 1, mapped.stderr[-3000:]
    assert "color" in mapping_lines[0].replace("colour", "")  # the close-match suggestion
    assert "Traceback" not in credentials.stderr + mapped.stderr
    assert sandbox.all_products() == []
    assert product_requests(sandbox.stats()) == 0
    scenario.note = "both exit non-zero before any product request; suggestion names `color`"
    scenario.leak_sources_scanned = leaks.assert_clean()


def test_missing_empty_and_unmatched_files(
    tmp_path: Path, leaks: LeakScanner, scenario: ScenarioResult
) -> None:
    scenario.scenario = "Missing file, empty file, file with no matching records"
    scenario.products = 0
    missing = tmp_path / "nowhere.xml"
    empty = tmp_path / "empty.xml"
    empty.write_bytes(b"")
    unmatched = tmp_path / "other.xml"
    unmatched.write_text('<?xml version="1.0"?>\n<Stock><Item/></Stock>\n', encoding="utf-8")

    runs = {
        name: run_tap(acceptance_config([path]), tmp_path / name)
        for name, path in (("missing", missing), ("empty", empty), ("unmatched", unmatched))
    }

    for name, run in runs.items():
        leaks.add_text(f"{name} stderr", run.stderr)
        assert "Traceback" not in run.stderr, run.stderr[-3000:]
    assert runs["missing"].returncode != 0
    assert len(runs["missing"].lines_naming(str(missing))) == 1
    assert "no such file" in runs["missing"].lines_naming(str(missing))[0]
    assert runs["empty"].returncode != 0
    [line] = runs["empty"].lines_naming(str(empty))
    assert f"{empty}:1:" in line
    # Documented: a file without matching records is a warning naming the root element found,
    # and it is not bookmarked (so a fixed record_path reads it next run).
    assert runs["unmatched"].returncode == 0
    assert runs["unmatched"].records == []
    warnings = [
        line
        for line in runs["unmatched"].stderr.splitlines()
        if "| WARNING" in line and str(unmatched) in line
    ]
    assert len(warnings) == 1, runs["unmatched"].stderr[-3000:]
    assert "no element matched record_path" in warnings[0]
    assert "the root element is Stock" in warnings[0]
    scenario.note = "missing/empty: exit 1 with one line; no match: exit 0 with one warning"
    scenario.leak_sources_scanned = leaks.assert_clean()
