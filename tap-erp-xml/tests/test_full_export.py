"""``full_export``: records carry a version, ACTIVATE_VERSION follows a complete export only."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from tap_erp_xml.testing import SyncResult, run_cli, sync


def _two_files(tmp_path: Path, **stream: Any) -> dict[str, Any]:
    for part, skus in (("a", ["A1", "A2"]), ("b", ["B1"])):
        products = "".join(f"<Product><SKU>{s}</SKU><At>2026-01-0{i + 1}</At></Product>"
                           for i, s in enumerate(skus))  # fmt: skip
        (tmp_path / f"{part}.xml").write_text(f"<Export>{products}</Export>")
    definition = {
        "name": "products",
        "record_path": "/Export/Product",
        "key_properties": ["sku"],
        "full_export": True,
        "fields": {"sku": "SKU", "at": {"path": "At", "type": "date"}},
        **stream,
    }
    return {"files": ["*.xml"], "base_dir": str(tmp_path), "streams": [definition]}


def _kinds(result: SyncResult) -> list[str]:
    return [m["type"] for m in result.messages if m["type"] in {"RECORD", "ACTIVATE_VERSION"}]


def _activations(result: SyncResult) -> list[dict[str, Any]]:
    return [m for m in result.messages if m["type"] == "ACTIVATE_VERSION"]


def _touch(path: Path) -> None:
    stat = path.stat()
    os.utime(path, (stat.st_atime, stat.st_mtime + 10))


def test_complete_export_ends_with_activate_version_of_the_records_version(
    tmp_path: Path,
) -> None:
    (tmp_path / "config.json").write_text(json.dumps(_two_files(tmp_path)))

    run = run_cli(["--config", "config.json"], cwd=tmp_path)

    assert run.returncode == 0, run.stderr
    result = run.messages
    assert _kinds(result) == ["RECORD", "RECORD", "RECORD", "ACTIVATE_VERSION"]
    records = [m for m in result.messages if m["type"] == "RECORD"]
    [activate] = _activations(result)
    assert activate["stream"] == "products"
    assert isinstance(activate["version"], int)
    assert {m["version"] for m in records} == {activate["version"]}
    # The bookmarks are saved after the ACTIVATE_VERSION, in the STATE that follows it.
    last_state = max(i for i, m in enumerate(result.messages) if m["type"] == "STATE")
    assert result.messages.index(activate) < last_state
    assert set(result.final_state["bookmarks"]["products"]["files"]) == {"a.xml", "b.xml"}


def test_a_run_that_reads_no_file_emits_no_activate_version(tmp_path: Path) -> None:
    config = _two_files(tmp_path)
    first = sync(config)

    second = sync(config, state=first.final_state)

    assert _kinds(second) == []
    assert second.counts["products"].files_unchanged == 2


def test_one_changed_file_reads_the_whole_export_unfiltered(tmp_path: Path) -> None:
    """The replication key filters nothing: a target must receive every product."""
    config = _two_files(tmp_path, replication_key="at")
    first = sync(config)
    _touch(tmp_path / "b.xml")

    second = sync(config, state=first.final_state)

    assert [r["sku"] for r in second.records] == ["A1", "A2", "B1"]
    assert _kinds(second)[-1] == "ACTIVATE_VERSION"
    assert second.counts["products"].filtered == 0
    versions = {m["version"] for m in second.messages if m["type"] == "RECORD"}
    assert versions == {_activations(second)[0]["version"]}


def test_an_incomplete_export_emits_no_activate_version(tmp_path: Path) -> None:
    config = _two_files(tmp_path)
    config["streams"][0]["fields"]["at"] = {"path": "At", "type": "integer"}
    config["on_invalid_value"] = "skip"

    result = sync(config)

    assert result.records == []
    assert _activations(result) == []
    assert result.counts["products"].skipped_invalid == 3


def test_a_file_without_records_makes_the_export_incomplete(tmp_path: Path) -> None:
    config = _two_files(tmp_path)
    (tmp_path / "c.xml").write_text("<Other/>")

    result = sync(config)

    assert [r["sku"] for r in result.records] == ["A1", "A2", "B1"]
    assert _activations(result) == []


def test_without_full_export_no_version_and_no_activate_version(tmp_path: Path) -> None:
    config = _two_files(tmp_path, full_export=False)
    config["emit_activate_version_messages"] = True  # the SDK's way is not used

    result = sync(config)

    assert len(result.records) == 3
    assert _activations(result) == []
    assert all("version" not in m for m in result.messages if m["type"] == "RECORD")


def test_activate_version_follows_the_stream_map_alias(tmp_path: Path) -> None:
    config = _two_files(tmp_path)
    config["stream_maps"] = {"products": {"__alias__": "items"}}

    result = sync(config)

    assert {m["stream"] for m in result.messages if m["type"] == "RECORD"} == {"items"}
    assert [m["stream"] for m in _activations(result)] == ["items"]
