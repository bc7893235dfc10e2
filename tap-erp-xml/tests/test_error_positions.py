"""A conversion error says where: file, line and column, the record's ordinal and its key."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from tap_erp_xml.testing import run_cli

NS = "urn:acme:erp:products:1"


def _one_line_export(weights: list[str]) -> str:
    """A namespaced export on one line, as some ERPs write them."""
    products = "".join(
        f'<Product id="{n}"><SKU>SKU-{n}</SKU><Weight unit="kg">{w}</Weight></Product>'
        for n, w in enumerate(weights, start=1)
    )
    return f'<?xml version="1.0" encoding="UTF-8"?><ERPExport xmlns="{NS}">{products}</ERPExport>'


def _config(tmp_path: Path, name: str, **settings: Any) -> None:
    stream = {
        "name": "products",
        "record_path": "/erp:ERPExport/erp:Product",
        "namespaces": {"erp": NS},
        "key_properties": ["sku"],
        "fields": {
            "sku": "erp:SKU",
            "weight": {"path": "erp:Weight", "type": "number", "decimal_separator": ","},
        },
    }
    config = {"files": [name], "streams": [stream], **settings}
    (tmp_path / "config.json").write_text(json.dumps(config))


def _column(text: str, sku: str) -> int:
    """1-based column of the start tag of the product holding ``sku``."""
    return text.rindex("<Product", 0, text.index(f"<SKU>{sku}<")) + 1


@pytest.mark.parametrize("compressed", [False, True], ids=["xml", "gz"])
def test_one_line_file_error_names_line_column_record_and_key(
    tmp_path: Path, compressed: bool
) -> None:
    text = _one_line_export(["1,5", "2", "0,3", "4", "5", "6", "1,2kg", "8"])
    name = "products.xml.gz" if compressed else "products.xml"
    data = text.encode("utf-8")
    (tmp_path / name).write_bytes(gzip.compress(data) if compressed else data)
    _config(tmp_path, name)

    run = run_cli(["--config", "config.json"], cwd=tmp_path)

    assert run.returncode == 1
    expected = (
        f"{name}:1:{_column(text, 'SKU-7')} (record 7, sku=SKU-7): "
        'field "weight": cannot convert "1,2kg" to number'
    )
    errors = [line for line in run.stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1, run.stderr
    assert errors[0].endswith(expected), errors[0]
    assert "Traceback" not in run.stderr
    # The records before the bad one were emitted; the file is not bookmarked.
    assert [r["sku"] for r in run.messages.records] == [f"SKU-{n}" for n in range(1, 7)]
    assert "files" not in run.messages.final_state.get("bookmarks", {}).get("products", {})


def test_skipped_records_are_each_placed(tmp_path: Path) -> None:
    text = _one_line_export(["1", "x", "3", "y"]).replace(
        "<Product id=", "\n<Product id=", 1
    )  # the first product on line 2: the others follow it on that line
    (tmp_path / "products.xml").write_text(text, encoding="utf-8")
    _config(tmp_path, "products.xml", on_invalid_value="skip")

    run = run_cli(["--config", "config.json"], cwd=tmp_path)

    assert run.returncode == 0, run.stderr
    assert [r["sku"] for r in run.messages.records] == ["SKU-1", "SKU-3"]
    line_two = text.splitlines()[1]
    for ordinal, sku, raw in ((2, "SKU-2", "x"), (4, "SKU-4", "y")):
        where = f"products.xml:2:{_column(line_two, sku)} (record {ordinal}, sku={sku})"
        assert f'{where}: field "weight": cannot convert "{raw}" to number' in run.stderr
