"""Incremental runs: unchanged files are not opened; replication_key filters records."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from tap_erp_xml.testing import run_cli, sync
from tests.support import ACCEPTANCE


def _copy_acceptance(tmp_path: Path) -> Path:
    for name in ("tap-config.json", "erp-products.xml"):
        shutil.copy(ACCEPTANCE / name, tmp_path / name)
    return tmp_path / "erp-products.xml"


def test_second_cli_run_with_state_emits_nothing_and_opens_nothing(tmp_path: Path) -> None:
    _copy_acceptance(tmp_path)
    first = run_cli(["--config", "tap-config.json"], cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert len(first.messages.records) == 4
    state = first.messages.final_state
    bookmark = state["bookmarks"]["products"]
    assert bookmark["replication_key"] == "updated_at"
    assert bookmark["replication_key_value"] == "2026-11-21T20:00:00+00:00"
    assert list(bookmark["files"]) == ["erp-products.xml"]
    (tmp_path / "state.json").write_text(json.dumps(state))

    second = run_cli(["--config", "tap-config.json", "--state", "state.json"], cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert second.messages.records == []
    assert "0 records emitted" in second.stderr
    assert "0 files read, 1 files unchanged (not opened)" in second.stderr
    assert second.messages.final_state == state


def test_changed_file_is_read_again_and_filtered_by_replication_key(
    tmp_path: Path, acceptance_config: dict[str, Any]
) -> None:
    xml = _copy_acceptance(tmp_path)
    acceptance_config["base_dir"] = str(tmp_path)
    first = sync(acceptance_config)
    state = first.final_state
    assert first.counts["products"].files_read == 1

    unchanged = sync(acceptance_config, state=state)
    assert unchanged.records == []
    assert unchanged.counts["products"].files_unchanged == 1

    text = xml.read_text(encoding="utf-8").replace(
        "<UpdatedAt>2026-11-21T18:10:00Z</UpdatedAt>", "<UpdatedAt>2026-11-22T08:00:00Z</UpdatedAt>"
    )
    xml.write_text(text, encoding="utf-8")
    stat = xml.stat()
    os.utime(xml, (stat.st_atime, stat.st_mtime + 10))
    changed = sync(acceptance_config, state=state)
    # SKU-100235 changed after the bookmark; SKU-100237 equals it (at-least-once).
    assert [r["sku"] for r in changed.records] == ["SKU-100235", "SKU-100237"]
    counts = changed.counts["products"]
    assert (counts.files_read, counts.filtered, counts.emitted) == (1, 2, 2)
    new_bookmark = changed.final_state["bookmarks"]["products"]
    assert new_bookmark["replication_key_value"] == "2026-11-22T08:00:00+00:00"
    assert (
        new_bookmark["files"]["erp-products.xml"]["modified"]
        > state["bookmarks"]["products"]["files"]["erp-products.xml"]["modified"]
    )


def test_start_date_filters_records_without_state(acceptance_config: dict[str, Any]) -> None:
    acceptance_config["start_date"] = "2026-11-21T18:30:00Z"
    result = sync(acceptance_config)
    assert [r["sku"] for r in result.records] == ["SKU-100236", "SKU-100237"]
    assert result.counts["products"].filtered == 2


def test_new_file_in_a_glob_is_read_old_one_is_not(tmp_path: Path) -> None:
    stream = {
        "name": "products",
        "record_path": "/Export/Product",
        "fields": {"sku": "SKU"},
    }
    config = {"files": ["drop/*.xml"], "base_dir": str(tmp_path), "streams": [stream]}
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "day1.xml").write_text("<Export><Product><SKU>A</SKU></Product></Export>")
    first = sync(config)
    assert [r["sku"] for r in first.records] == ["A"]
    (drop / "day2.xml").write_text("<Export><Product><SKU>B</SKU></Product></Export>")
    second = sync(config, state=first.final_state)
    assert [r["sku"] for r in second.records] == ["B"]
    assert [r["_sdc_source_file"] for r in second.records] == [os.path.join("drop", "day2.xml")]
    counts = second.counts["products"]
    assert (counts.files_read, counts.files_unchanged) == (1, 1)
    assert set(second.final_state["bookmarks"]["products"]["files"]) == {
        os.path.join("drop", "day1.xml"),
        os.path.join("drop", "day2.xml"),
    }


def test_a_state_follows_each_file_read(tmp_path: Path) -> None:
    """An interrupted run keeps the bookmarks of the files it finished."""
    for name in ("a.xml", "b.xml"):
        (tmp_path / name).write_text(f"<Export><Product><SKU>{name}</SKU></Product></Export>")
    stream = {"name": "products", "record_path": "/Export/Product", "fields": {"sku": "SKU"}}
    result = sync({"files": ["*.xml"], "base_dir": str(tmp_path), "streams": [stream]})
    files = [set(s["bookmarks"]["products"].get("files", {})) for s in result.states]
    assert {"a.xml"} in files
    assert files[-1] == {"a.xml", "b.xml"}
    assert files.index({"a.xml"}) < files.index({"a.xml", "b.xml"})
