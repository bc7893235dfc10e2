"""A large file read by 2 processes (parallel.py) gives exactly what 1 process gives.

Records, their order, counts, state and errors are compared between ``processes: 1`` and
``processes: 2`` (with ``processes_min_file_mb: 0`` so that small test files qualify),
in-process and through the CLI; a helper process that dies fails the run.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from tap_helpers import SyncResult, run_cli, sync

from tap_erp_xml import parallel
from tap_erp_xml.errors import TapErpXmlError, ValueConversionError, XmlError

BLOCK = parallel.BLOCK_RECORDS
PRODUCTS = BLOCK * 5 + 17  # blocks of both processes, the last one partial


def export(path: Path, count: int = PRODUCTS, bad: dict[int, str] | None = None) -> Path:
    """An export of ``count`` products; ``bad`` replaces the weight of product i."""
    bad = bad or {}
    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<Export>\n')
        for i in range(count):
            weight = bad.get(i, f"{i % 7},5")
            out.write(
                f'  <Product id="{i}"><SKU>P-{i:05d}</SKU><Name lang="en">Shoe {i}</Name>'
                f'<Name lang="de">Schuh {i}</Name><Weight unit="kg">{weight}</Weight>'
                f"<Updated>2025-11-{1 + i % 28:02d}T10:00:00Z</Updated></Product>\n"
            )
        out.write("</Export>\n")
    return path


def config(file: Path, processes: int, **settings: Any) -> dict[str, Any]:
    return {
        "files": [str(file)],
        "processes": processes,
        "processes_min_file_mb": 0,
        "streams": [
            {
                "name": "products",
                "record_path": "/Export/Product",
                "key_properties": ["sku"],
                "replication_key": "updated",
                "fields": {
                    "sku": "SKU",
                    "id": {"path": "@id", "type": "integer"},
                    "name": {"path": "Name", "key": "@lang"},
                    "weight": {"path": "Weight", "type": "number", "decimal_separator": ","},
                    "unit": "Weight/@unit",
                    "updated": {"path": "Updated", "type": "date-time"},
                },
            }
        ],
        **settings,
    }


def outcome(result: SyncResult) -> tuple[list[dict[str, Any]], dict[str, Any], Any]:
    return result.records, result.final_state, result.counts["products"]


def test_two_processes_emit_the_same_records_state_and_counts(tmp_path: Path) -> None:
    file = export(tmp_path / "big.xml")
    one = sync(config(file, 1))
    two = sync(config(file, 2))
    assert len(two.records) == PRODUCTS
    assert [r["sku"] for r in two.records] == [f"P-{i:05d}" for i in range(PRODUCTS)]
    assert outcome(two) == outcome(one)
    assert two.records[BLOCK + 3]["weight"] == one.records[BLOCK + 3]["weight"] == 0.5


def test_replication_filter_and_bookmark_are_the_same(tmp_path: Path) -> None:
    file = export(tmp_path / "big.xml")
    start = {"start_date": "2025-11-20T10:00:00Z"}
    one = sync(config(file, 1, **start))
    two = sync(config(file, 2, **start))
    assert outcome(two) == outcome(one)
    assert 0 < len(two.records) < PRODUCTS
    assert two.counts["products"].filtered == PRODUCTS - len(two.records)
    bookmark = two.final_state["bookmarks"]["products"]["replication_key_value"]
    assert bookmark == "2025-11-28T10:00:00+00:00"


@pytest.mark.parametrize("index", [3, BLOCK + 5, 2 * BLOCK + 9, 3 * BLOCK + 1])
def test_a_value_that_fails_stops_where_one_process_stops(tmp_path: Path, index: int) -> None:
    """Blocks 1 and 3 are converted by the helper process, 0 and 2 by the tap itself."""
    file = export(tmp_path / "big.xml", bad={index: "heavy"})
    errors = []
    for processes in (1, 2):
        with pytest.raises(ValueConversionError) as caught:
            sync(config(file, processes))
        errors.append(str(caught.value))
    assert errors[0] == errors[1]
    assert 'field "weight": cannot convert "heavy" to number' in errors[1]
    for processes in (1, 2):
        run = run_cli(["--config", _write(tmp_path, config(file, processes))], tmp_path)
        assert run.returncode == 1
        assert [r["sku"] for r in run.messages.records] == [f"P-{i:05d}" for i in range(index)]


def test_skipped_values_are_counted_the_same(tmp_path: Path) -> None:
    bad = {5: "x", BLOCK + 1: "y", 3 * BLOCK + 2: "z"}
    file = export(tmp_path / "big.xml", bad=bad)
    one = sync(config(file, 1, on_invalid_value="skip"))
    two = sync(config(file, 2, on_invalid_value="skip"))
    assert outcome(two) == outcome(one)
    assert two.counts["products"].skipped_invalid == 3
    assert len(two.records) == PRODUCTS - 3


@pytest.mark.parametrize("cut_at", [BLOCK // 2, BLOCK + 40, 3 * BLOCK + 200])
def test_a_truncated_file_fails_after_the_same_records(tmp_path: Path, cut_at: int) -> None:
    whole = export(tmp_path / "whole.xml").read_bytes()
    marker = f'<Product id="{cut_at}">'.encode()
    broken = tmp_path / "broken.xml"
    broken.write_bytes(whole[: whole.index(marker) + len(marker) + 20])
    errors = []
    for processes in (1, 2):
        with pytest.raises(XmlError) as caught:
            sync(config(broken, processes))
        errors.append(str(caught.value))
        run = run_cli(["--config", _write(tmp_path, config(broken, processes))], tmp_path)
        assert run.returncode == 1
        assert len(run.messages.records) == cut_at
    assert errors[0] == errors[1]
    assert errors[1].startswith(f"{broken}:")


def test_a_helper_process_that_dies_fails_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing after the missing block is written, and the error names the process."""

    def die(*_: Any) -> None:
        os._exit(3)

    monkeypatch.setattr(parallel, "_follow", die)
    file = export(tmp_path / "big.xml")
    with pytest.raises(TapErpXmlError, match="ended before sending record block 1") as caught:
        sync(config(file, 2))
    assert "processes: 1" in str(caught.value)


def test_small_and_compressed_files_use_one_process(tmp_path: Path) -> None:
    from tap_erp_xml.streams import ErpXmlStream
    from tap_erp_xml.tap import TapErpXml

    file = export(tmp_path / "big.xml", count=10)
    tap = TapErpXml(config=config(file, 0, processes_min_file_mb=1), validate_config=True)
    stream = tap.streams["products"]
    assert isinstance(stream, ErpXmlStream)
    source = stream._source.list_files((str(file),))[0]
    assert stream._processes_for(source) == 1  # below the size threshold
    tap = TapErpXml(config=config(file, 3), validate_config=True)
    stream = tap.streams["products"]
    assert isinstance(stream, ErpXmlStream)
    assert stream._processes_for(source) == 3
    gz = tmp_path / "big.xml.gz"
    gz.write_bytes(b"")
    compressed = stream._source.list_files((str(gz),))[0]
    assert stream._processes_for(compressed) == 1


def _write(folder: Path, cfg: dict[str, Any]) -> str:
    import json

    path = folder / f"config-{cfg['processes']}.json"
    path.write_text(json.dumps(cfg), encoding="utf-8")
    return str(path)
