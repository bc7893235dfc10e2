"""File listing and opening: globs, relative paths, gz and zip, clear errors."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import pytest

from tap_erp_xml.errors import SourceError
from tap_erp_xml.source import redact
from tap_erp_xml.testing import product_stream, sync


def _export(*skus: str) -> bytes:
    products = "".join(f"<Product><SKU>{s}</SKU><Price>1.5</Price></Product>" for s in skus)
    return f"<Export>{products}</Export>".encode()


def test_gzip_is_read_transparently(tmp_path: Path) -> None:
    (tmp_path / "export.xml.gz").write_bytes(gzip.compress(_export("G-1", "G-2")))
    result = sync({"files": [str(tmp_path / "export.xml.gz")], "streams": [product_stream()]})
    assert [r["sku"] for r in result.records] == ["G-1", "G-2"]
    assert result.records[0]["_sdc_source_file"] == str(tmp_path / "export.xml.gz")


def test_every_xml_member_of_a_zip_is_read(tmp_path: Path) -> None:
    archive = tmp_path / "exports.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("b/second.xml", _export("Z-2"))
        zf.writestr("a/first.XML", _export("Z-1"))
        zf.writestr("readme.txt", "not xml")
    result = sync({"files": [str(archive)], "streams": [product_stream()]})
    assert [r["sku"] for r in result.records] == ["Z-1", "Z-2"]
    assert result.records[0]["_sdc_source_file"] == f"{archive}!a/first.XML"


def test_broken_gzip_and_empty_zip_are_clear_errors(tmp_path: Path) -> None:
    broken = tmp_path / "broken.xml.gz"
    broken.write_bytes(gzip.compress(_export("X"))[:30])
    with pytest.raises(SourceError, match=r"broken\.xml\.gz: cannot read: EOFError"):
        sync({"files": [str(broken)], "streams": [product_stream()]})
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as zf:
        zf.writestr("notes.txt", "nothing")
    with pytest.raises(SourceError, match=r"empty\.zip: the zip archive holds no \.xml member"):
        sync({"files": [str(empty)], "streams": [product_stream()]})


def test_relative_paths_resolve_against_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "one.xml").write_bytes(_export("R-1"))
    monkeypatch.chdir(tmp_path)
    result = sync({"files": ["in/one.xml"], "streams": [product_stream()]})
    assert [(r["sku"], r["_sdc_source_file"]) for r in result.records] == [("R-1", "in/one.xml")]


def test_file_url_and_recursive_glob(tmp_path: Path) -> None:
    (tmp_path / "x" / "y").mkdir(parents=True)
    (tmp_path / "x" / "y" / "deep.xml").write_bytes(_export("D-1"))
    (tmp_path / "top.xml").write_bytes(_export("T-1"))
    result = sync({"files": [f"file://{tmp_path}/**/*.xml"], "streams": [product_stream()]})
    assert sorted(r["sku"] for r in result.records) == ["D-1", "T-1"]


def test_missing_file_and_empty_glob_name_the_entry(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r'files: "nowhere\.xml": no such file'):
        sync({"files": ["nowhere.xml"], "base_dir": str(tmp_path), "streams": [product_stream()]})
    with pytest.raises(SourceError, match=r'files: pattern "drop/\*\.xml" matches no file'):
        sync({"files": ["drop/*.xml"], "base_dir": str(tmp_path), "streams": [product_stream()]})
    allowed = sync(
        {
            "files": ["drop/*.xml"],
            "base_dir": str(tmp_path),
            "allow_empty_match": True,
            "streams": [product_stream()],
        }
    )
    assert allowed.records == []


def test_file_without_matching_records_is_a_warning_not_an_error(tmp_path: Path) -> None:
    (tmp_path / "other.xml").write_bytes(b"<Catalog><Item/></Catalog>")
    result = sync({"files": [str(tmp_path / "other.xml")], "streams": [product_stream()]})
    assert result.records == []
    assert result.counts["products"].files_without_records == 1


def test_stream_files_override_top_level_files(tmp_path: Path) -> None:
    (tmp_path / "a.xml").write_bytes(_export("A-1"))
    (tmp_path / "b.xml").write_bytes(_export("B-1"))
    config = {
        "files": ["a.xml"],
        "base_dir": str(tmp_path),
        "streams": [product_stream(), product_stream(name="others", files=["b.xml"])],
    }
    result = sync(config)
    assert sorted(r["sku"] for r in result.records) == ["A-1", "B-1"]
    assert result.counts["others"].emitted == 1


def test_passwords_in_urls_are_redacted() -> None:
    assert redact("sftp://erp:s3cret@files.example.com:2222/out/*.xml") == (
        "sftp://erp:***@files.example.com:2222/out/*.xml"
    )
    assert redact("s3://bucket/key.xml") == "s3://bucket/key.xml"
