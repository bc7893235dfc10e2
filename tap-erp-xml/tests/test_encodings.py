"""Encodings: the declaration is honoured, a BOM is fine, the ``encoding`` setting overrides."""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import Any

import pytest

from tap_erp_xml.errors import XmlError
from tap_erp_xml.testing import product_stream, sync

NAME = "Trailläufer “Größe” 5 €"


def _file(tmp_path: Path, name: str, data: bytes) -> dict[str, Any]:
    (tmp_path / name).write_bytes(data)
    return {"files": [str(tmp_path / name)], "streams": [product_stream()]}


def _doc(declared: str | None, name: str = NAME) -> str:
    head = f'<?xml version="1.0" encoding="{declared}"?>\n' if declared else ""
    return f"{head}<Export><Product><SKU>S-1</SKU><Name>{name}</Name></Product></Export>"


def test_iso_8859_1_declaration_is_honoured(tmp_path: Path) -> None:
    text = "Trailläufer Größe Ø 5 µm"
    config = _file(tmp_path, "latin1.xml", _doc("ISO-8859-1", text).encode("latin-1"))
    assert sync(config).records[0]["name"] == text


def test_windows_1252_declaration_is_honoured(tmp_path: Path) -> None:
    config = _file(tmp_path, "cp1252.xml", _doc("windows-1252").encode("cp1252"))
    assert sync(config).records[0]["name"] == NAME


@pytest.mark.parametrize(
    ("bom", "codec"),
    [
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ],
)
def test_byte_order_marks(tmp_path: Path, bom: bytes, codec: str) -> None:
    declared = "UTF-8" if codec == "utf-8" else "UTF-16"
    config = _file(tmp_path, f"bom-{codec}.xml", bom + _doc(declared).encode(codec))
    assert sync(config).records[0]["name"] == NAME


def test_wrong_declaration_fails_and_the_encoding_setting_fixes_it(tmp_path: Path) -> None:
    config = _file(tmp_path, "lying.xml", _doc("UTF-8").encode("cp1252"))
    with pytest.raises(XmlError, match=r"lying\.xml:2:\d+: .*encoding"):
        sync(config)
    config["encoding"] = "windows-1252"
    assert sync(config).records[0]["name"] == NAME


def test_stream_encoding_wins_over_top_level(tmp_path: Path) -> None:
    config = _file(tmp_path, "lying.xml", _doc("UTF-8").encode("cp1252"))
    config["encoding"] = "utf-8"
    config["streams"][0]["encoding"] = "cp1252"
    assert sync(config).records[0]["name"] == NAME
