"""Hostile and broken XML through tap-erp-xml: refused safely, one clear line, bounded memory."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from akeneo_sandbox.testing import SandboxProcess
from tests.reliability import hostile
from tests.reliability.leaks import LeakScanner
from tests.reliability.loopback import CountingServer
from tests.reliability.pipeline import collect, file_bookmarks, read_files, state
from tests.reliability.tally import ScenarioResult
from tests.reliability.tap_cli import TapRun, acceptance_config, run_tap
from tests.support import MeltanoProject

pytestmark = pytest.mark.reliability

PEAK_RSS_LIMIT_MB = 400


def assert_refused(run: TapRun, path: Path, reason: str) -> str:
    """Non-zero exit, no traceback, exactly one error line `file:line:column: reason`."""
    assert run.returncode != 0, run.stderr[-2000:]
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    lines = run.lines_naming(str(path))
    assert len(lines) == 1, run.stderr[-3000:]
    message = lines[0].split(str(path), 1)[1]
    assert re.match(r":\d+:\d+: \S", message), lines[0]
    assert reason in message, lines[0]
    assert run.peak_rss_mb < PEAK_RSS_LIMIT_MB
    return message


def assert_counter_works(server: CountingServer) -> None:
    """The zero-requests checks mean something only if the counter sees a real request."""
    before = server.connections
    with urllib.request.urlopen(server.url + "/control", timeout=5) as answer:
        assert answer.status == 200
    assert server.connections == before + 1


def test_entity_attacks_never_read_files_or_the_network(
    tmp_path: Path, loopback: CountingServer, scenario: ScenarioResult, leaks: LeakScanner
) -> None:
    scenario.scenario = "Hostile XML: XXE (file, URL, parameter entity), external DTD, entity bombs"
    cases = hostile.entity_attacks(tmp_path / "corpus", loopback)
    refused = []
    for case in cases:
        run = run_tap(acceptance_config([case.path]), tmp_path / "runs" / case.name)
        leaks.add_text(f"{case.name} stdout", run.stdout)
        leaks.add_text(f"{case.name} stderr", run.stderr)

        assert hostile.MARKER not in run.stdout + run.stderr, case.name
        assert "FETCHED-OVER-NETWORK" not in run.stdout + run.stderr, case.name
        assert "lollollol" not in run.stdout, case.name
        assert loopback.connections == 0, (case.name, loopback.paths)
        assert_refused(run, case.path, case.reason)
        if case.name != "external-dtd":  # see the next test
            assert run.records == [], (case.name, run.records)
        refused.append(case.name)

    assert_counter_works(loopback)
    scenario.products = len(cases)
    scenario.note = f"{len(refused)} files refused; 0 network connections; marker never read"
    scenario.leak_sources_scanned = leaks.assert_clean()


def test_external_dtd_entity_emits_no_record_with_dropped_text(
    tmp_path: Path, loopback: CountingServer, scenario: ScenarioResult, leaks: LeakScanner
) -> None:
    scenario.scenario = "External DTD: an entity it would define is not silently dropped"
    [case] = [
        c for c in hostile.entity_attacks(tmp_path / "corpus", loopback) if c.name == "external-dtd"
    ]

    run = run_tap(acceptance_config([case.path]), tmp_path / "run")

    leaks.add_text("stdout", run.stdout)
    leaks.add_text("stderr", run.stderr)
    assert loopback.connections == 0
    assert_refused(run, case.path, case.reason)
    # The product's name is `&ext;`: emitting it with the name missing (before failing) would
    # let the target write a corrupt product to the PIM.
    assert [r["name"] for r in run.records if r["sku"] == "DTD-1"] == []
    scenario.products = 1
    scenario.note = "refused before any record of the document is emitted"
    scenario.leak_sources_scanned = leaks.assert_clean()


def test_broken_files_fail_with_file_line_and_column(
    tmp_path: Path, scenario: ScenarioResult, leaks: LeakScanner
) -> None:
    scenario.scenario = "Broken XML: depth, truncation, bad markup, encoding, invalid characters"
    cases = hostile.broken_files(tmp_path / "corpus")
    for case in cases:
        run = run_tap(acceptance_config([case.path]), tmp_path / "runs" / case.name)
        leaks.add_text(f"{case.name} stderr", run.stderr)

        assert_refused(run, case.path, case.reason)

    scenario.products = len(cases)
    scenario.note = f"{len(cases)} files refused, each with one file:line:column line"
    scenario.leak_sources_scanned = leaks.assert_clean()


def test_encoding_setting_overrides_a_wrong_declaration(
    tmp_path: Path, scenario: ScenarioResult, leaks: LeakScanner
) -> None:
    scenario.scenario = "Wrong declared encoding, corrected by the `encoding` setting"
    latin = tmp_path / "latin.xml"
    latin.write_bytes(hostile.export(hostile.product("ENC-1", "Trailläufer")).encode("latin-1"))

    refused = run_tap(acceptance_config([latin]), tmp_path / "declared")
    fixed = run_tap(acceptance_config([latin], encoding="ISO-8859-1"), tmp_path / "override")

    assert_refused(refused, latin, "encoding")
    assert fixed.returncode == 0, fixed.stderr[-3000:]
    assert [r["name"] for r in fixed.records] == [{"en": "Trailläufer"}]
    leaks.add_text("stderr", refused.stderr + fixed.stderr)
    scenario.products = 1
    scenario.note = "refused as declared; read correctly with the override"
    scenario.leak_sources_scanned = leaks.assert_clean()


def test_invalid_value_fails_or_is_skipped_and_counted(
    tmp_path: Path, scenario: ScenarioResult, leaks: LeakScanner
) -> None:
    scenario.scenario = "Invalid value: fail names file, line, field and value; skip counts it"
    export = tmp_path / "values.xml"
    export.write_text(
        hostile.export(
            hostile.product("VAL-1")
            + hostile.product("VAL-2", weight="heavy")
            + hostile.product("VAL-3")
        ),
        encoding="utf-8",
    )

    failed = run_tap(acceptance_config([export]), tmp_path / "fail")
    skipped = run_tap(acceptance_config([export], on_invalid_value="skip"), tmp_path / "skip")

    assert failed.returncode != 0
    assert "Traceback" not in failed.stderr
    [line] = failed.lines_naming(str(export))
    assert re.search(rf"{re.escape(str(export))}:5\b.*weight.*heavy", line), line
    assert skipped.returncode == 0, skipped.stderr[-3000:]
    assert [r["sku"] for r in skipped.records] == ["VAL-1", "VAL-3"]
    assert re.search(r"2 records emitted, 1 skipped", skipped.stderr), skipped.stderr[-3000:]
    leaks.add_text("stderr", failed.stderr + skipped.stderr)
    scenario.products = 3
    scenario.note = "fail: exit 1 naming line 5, field and value; skip: 2 emitted, 1 counted"
    scenario.leak_sources_scanned = leaks.assert_clean()


def test_hundred_megabyte_text_node_is_streamed_with_bounded_memory(
    tmp_path: Path, scenario: ScenarioResult, leaks: LeakScanner
) -> None:
    scenario.scenario = "100 MB text node"
    path = hostile.huge_text_node(tmp_path)

    run = run_tap(acceptance_config([path]), tmp_path / "run")

    leaks.add_text("stderr", run.stderr)
    assert run.peak_rss_mb < PEAK_RSS_LIMIT_MB
    if run.returncode == 0:  # accepting it is fine as long as it stays streamed and intact
        [record] = run.records
        assert len(record["name"]["en"]) == hostile.BIG_TEXT_BYTES
    else:
        assert_refused(run, path, "")
    scenario.products = 1
    scenario.note = f"exit {run.returncode}, peak RSS {round(run.peak_rss_mb, -1):.0f} MB"
    scenario.leak_sources_scanned = leaks.assert_clean()


def test_xinclude_is_not_processed(
    tmp_path: Path, loopback: CountingServer, scenario: ScenarioResult, leaks: LeakScanner
) -> None:
    scenario.scenario = "XInclude of a local file and a URL"
    secret = hostile.secret_file(tmp_path)
    includes = (
        f'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="{secret.as_uri()}"'
        ' parse="text"/>'
        f'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="{loopback.url}/x"'
        ' parse="text"/>'
    )
    export = tmp_path / "xinclude.xml"
    export.write_text(hostile.export(hostile.product("XI-1", includes)), encoding="utf-8")

    run = run_tap(acceptance_config([export]), tmp_path / "run")

    leaks.add_text("stdout", run.stdout)
    leaks.add_text("stderr", run.stderr)
    assert hostile.MARKER not in run.stdout + run.stderr
    assert loopback.connections == 0
    assert run.returncode == 0, run.stderr[-3000:]
    assert [r["sku"] for r in run.records] == ["XI-1"]
    assert json.dumps(run.records[0]["name"]) in ('{"en": null}', "null")
    scenario.products = 1
    scenario.note = "include elements left as they are: nothing read, no request"
    scenario.leak_sources_scanned = leaks.assert_clean()


def test_xxe_through_meltano_run_reads_nothing_and_writes_nothing(
    sandboxes: Callable[..., SandboxProcess],
    connect: Callable[[SandboxProcess], MeltanoProject],
    tmp_path: Path,
    loopback: CountingServer,
    leaks: LeakScanner,
    scenario: ScenarioResult,
) -> None:
    scenario.scenario = "XXE (local file and URL) through `meltano run` into the PIM"
    cases = hostile.entity_attacks(tmp_path / "corpus", loopback)
    erp = [c.path for c in cases if c.name in ("xxe-local-file", "xxe-url")]
    scenario.products = len(erp)
    sandbox = sandboxes()
    project = connect(sandbox)
    read_files(project, erp)
    since = time.time()

    result = project.run("run", "tap-erp-xml", "target-akeneo", timeout=300)

    collect(leaks, project, since, [("stdout", result.stdout), ("stderr", result.stderr)])
    assert result.returncode != 0
    assert any(str(erp[0]) in line for line in result.stderr.splitlines()), result.stderr[-3000:]
    assert hostile.MARKER not in result.stdout + result.stderr
    assert loopback.connections == 0
    assert sandbox.all_products() == []
    assert file_bookmarks(state(project)) == {}
    scenario.note = "exit non-zero naming the file; PIM empty; no state; marker never read"
    scenario.leak_sources_scanned = leaks.assert_clean()
