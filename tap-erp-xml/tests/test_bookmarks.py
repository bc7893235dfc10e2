"""File bookmarks know the definition that made them; a file without records is not bookmarked."""

from __future__ import annotations

import copy
import json
import logging
import shutil
from pathlib import Path
from typing import Any

import pytest

from tap_erp_xml.testing import run_cli, sync
from tests.support import ACCEPTANCE

REDEFINED = "bookmarked files were read with another stream definition"


def _acceptance(tmp_path: Path) -> dict[str, Any]:
    shutil.copy(ACCEPTANCE / "erp-products.xml", tmp_path / "erp-products.xml")
    config: dict[str, Any] = json.loads((ACCEPTANCE / "tap-config.json").read_text())
    config["base_dir"] = str(tmp_path)
    return config


def _write(tmp_path: Path, name: str, value: dict[str, Any]) -> str:
    (tmp_path / name).write_text(json.dumps(value))
    return name


def test_wrong_record_path_warns_with_the_root_found_and_bookmarks_nothing(
    tmp_path: Path,
) -> None:
    config = _acceptance(tmp_path)
    right = copy.deepcopy(config)
    config["streams"][0]["record_path"] = "/erp:Export/erp:Product"
    _write(tmp_path, "wrong.json", config)

    wrong = run_cli(["--config", "wrong.json"], cwd=tmp_path)

    assert wrong.returncode == 0, wrong.stderr
    assert wrong.messages.records == []
    assert (
        "erp-products.xml: no element matched record_path '/erp:Export/erp:Product'; "
        "the root element is {urn:acme:erp:products:1}ERPExport"
    ) in wrong.stderr
    assert "1 files without a matching element (not bookmarked)" in wrong.stderr
    state = wrong.messages.final_state
    assert state["bookmarks"]["products"].get("files", {}) == {}
    _write(tmp_path, "state.json", state)
    _write(tmp_path, "right.json", right)

    fixed = run_cli(["--config", "right.json", "--state", "state.json"], cwd=tmp_path)

    assert fixed.returncode == 0, fixed.stderr
    assert [r["sku"] for r in fixed.messages.records] == [
        "SKU-100234",
        "SKU-100235",
        "SKU-100236",
        "SKU-100237",
    ]
    assert "1 files read, 0 files unchanged" in fixed.stderr
    assert list(fixed.messages.final_state["bookmarks"]["products"]["files"]) == [
        "erp-products.xml"
    ]


def test_changed_field_definition_reads_the_file_again(tmp_path: Path) -> None:
    config = _acceptance(tmp_path)
    _write(tmp_path, "config.json", config)
    first = run_cli(["--config", "config.json"], cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    state = first.messages.final_state
    bookmark = state["bookmarks"]["products"]["files"]["erp-products.xml"]
    assert set(bookmark) == {"modified", "definition"}
    _write(tmp_path, "state.json", state)
    # The same definition in another order (fields, namespaces): the same fingerprint.
    reordered = copy.deepcopy(config)
    stream = reordered["streams"][0]
    stream["fields"] = dict(reversed(stream["fields"].items()))
    reordered["streams"][0] = dict(reversed(stream.items()))
    _write(tmp_path, "reordered.json", reordered)

    same = run_cli(["--config", "reordered.json", "--state", "state.json"], cwd=tmp_path)

    assert same.returncode == 0, same.stderr
    assert same.messages.records == []
    assert "0 files read, 1 files unchanged" in same.stderr
    assert REDEFINED not in same.stderr
    config["streams"][0]["fields"]["weight"] = "erp:Weight"  # number -> text
    _write(tmp_path, "changed.json", config)

    changed = run_cli(["--config", "changed.json", "--state", "state.json"], cwd=tmp_path)

    assert changed.returncode == 0, changed.stderr
    assert [r["weight"] for r in changed.messages.records][:2] == ["0,82", "180"]
    assert f"Stream 'products': 1 {REDEFINED}" in changed.stderr
    assert "1 files read, 0 files unchanged" in changed.stderr
    new = changed.messages.final_state["bookmarks"]["products"]["files"]["erp-products.xml"]
    assert new["modified"] == bookmark["modified"]
    assert new["definition"] != bookmark["definition"]


@pytest.mark.parametrize(
    "change",
    [
        {"stream_maps": {"products": {"sku_lower": "sku.lower()"}}},
        {"flattening_enabled": True, "flattening_max_depth": 1},
        {"encoding": "iso-8859-1"},
    ],
    ids=["stream_maps", "flattening", "encoding"],
)
def test_settings_that_reshape_records_read_the_file_again(
    tmp_path: Path, change: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    config = _acceptance(tmp_path)
    state = sync(config).final_state

    with caplog.at_level(logging.INFO):
        again = sync({**config, **change}, state=state)

    assert len(again.records) == 4
    assert REDEFINED in caplog.text
    assert again.counts["products"].files_read == 1


def test_a_bookmark_from_before_fingerprints_reads_the_file_once_more(tmp_path: Path) -> None:
    config = _acceptance(tmp_path)
    state = sync(config).final_state
    files = state["bookmarks"]["products"]["files"]
    files["erp-products.xml"] = files["erp-products.xml"]["modified"]  # the old form

    again = sync(config, state=state)
    after = sync(config, state=again.final_state)

    assert len(again.records) == 4
    assert after.records == []
    assert after.counts["products"].files_unchanged == 1


def test_another_streams_definition_does_not_read_this_one_again(tmp_path: Path) -> None:
    config = _acceptance(tmp_path)
    other = copy.deepcopy(config["streams"][0])
    other["name"] = "others"
    config["streams"].append(other)
    state = sync(config).final_state
    config["streams"][1]["fields"]["weight"] = "erp:Weight"

    again = sync(config, state=state)

    assert again.counts["products"].files_unchanged == 1
    assert again.counts["others"].files_read == 1
