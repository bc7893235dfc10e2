"""Issue 12, rejected products get another chance, through the `target-akeneo` CLI against a
sandbox process: kept in the state store, sent again by later runs, never-overwritten
dead-letter files, and the list of what is pending."""

from __future__ import annotations

import copy
import datetime
import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import requests

from target_akeneo.report import RunFileWriter
from target_akeneo.testing import (
    ACCEPTANCE_RECORDS,
    acceptance_mapping,
    dead_letter_files,
    run_target,
    sandbox_config,
    singer_lines,
)

PRODUCT_ROUTES = ("/api/rest/v1/products", "/api/rest/v1/products-uuid")


def product_calls(stats: dict[str, Any]) -> int:
    return sum(row["count"] for row in stats["requests"] if row["route"].startswith(PRODUCT_ROUTES))


def add_option(sandbox: Any, attribute: str, code: str) -> None:
    response = requests.post(
        f"{sandbox.base_url}/api/rest/v1/attributes/{attribute}/options",
        json={"code": code, "attribute": attribute, "labels": {"en_US": code.title()}},
        headers={"Authorization": f"Bearer {sandbox.token()}"},
        timeout=10,
    )
    assert response.status_code == 201, response.text


def pending(cache: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "target_akeneo.pending", "--cache", str(cache)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_rejected_product_is_sent_again_once_the_option_exists(
    fresh_sandbox: Any, tmp_path: Path
) -> None:
    """Why: a rejected product was dead-lettered, its file bookmarked, and never arrived."""
    config = sandbox_config(fresh_sandbox, tmp_path)
    first = run_target(config, singer_lines(ACCEPTANCE_RECORDS), tmp_path)
    assert first.returncode == 0, first.stderr
    assert [d["identifier"] for d in first.dead_letters()] == ["SKU-100237"]
    listed = pending(Path(config["cache_path"]))
    assert listed.returncode == 0, listed.stderr
    (line,) = listed.stdout.splitlines()
    assert line.startswith("products\tSKU-100237\t")
    assert "PURPLE" in line
    assert "1 product(s) pending" in listed.stderr

    # Still missing: the retry is rejected again and stays pending.
    second = run_target(config, singer_lines([]), tmp_path)
    assert second.returncode == 0, second.stderr
    counts = {k: second.report[k] for k in ("received", "retried", "still_rejected", "rejected")}
    assert counts == {"received": 1, "retried": 1, "still_rejected": 1, "rejected": 1}
    assert fresh_sandbox.get_product("SKU-100237") is None

    add_option(fresh_sandbox, "color", "PURPLE")
    third = run_target(config, singer_lines([]), tmp_path)

    assert third.returncode == 0, third.stderr
    report = third.report
    assert (report["received"], report["created"], report["retried"]) == (1, 1, 1)
    assert (report["still_rejected"], report["rejected"]) == (0, 0)
    assert report["dead_letter_path"] is None
    product = fresh_sandbox.get_product("SKU-100237")
    assert product is not None
    assert product["values"]["color"] == [{"locale": None, "scope": None, "data": "PURPLE"}]
    assert pending(Path(config["cache_path"])).stdout == ""

    calls = product_calls(fresh_sandbox.stats())
    fourth = run_target(config, singer_lines([]), tmp_path)
    assert fourth.returncode == 0, fourth.stderr
    assert (fourth.report["received"], fourth.report["retried"]) == (0, 0)
    assert product_calls(fresh_sandbox.stats()) == calls

    # Each run that rejected something has its own file; none was overwritten.
    files = dead_letter_files(config)
    assert len(files) == 2
    assert [json.loads(f.read_text(encoding="utf-8"))["identifier"] for f in files] == [
        "SKU-100237",
        "SKU-100237",
    ]
    assert not Path(config["dead_letter_path"]).exists()


def test_a_newer_record_replaces_the_pending_one(fresh_sandbox: Any, tmp_path: Path) -> None:
    config = sandbox_config(fresh_sandbox, tmp_path)
    assert run_target(config, singer_lines(ACCEPTANCE_RECORDS), tmp_path).returncode == 0
    fixed = copy.deepcopy(ACCEPTANCE_RECORDS[3])
    fixed["color"] = "RD"
    calls = product_calls(fresh_sandbox.stats())

    run = run_target(config, singer_lines([fixed]), tmp_path)

    assert run.returncode == 0, run.stderr
    # The pending record was dropped, not sent: one request, for the newer record.
    assert product_calls(fresh_sandbox.stats()) == calls + 1
    assert (run.report["received"], run.report["created"], run.report["retried"]) == (1, 1, 0)
    product = fresh_sandbox.get_product("SKU-100237")
    assert product["values"]["color"] == [{"locale": None, "scope": None, "data": "red"}]
    assert pending(Path(config["cache_path"])).stdout == ""


def test_a_newer_unchanged_record_also_ends_the_retry(fresh_sandbox: Any, tmp_path: Path) -> None:
    """The product is confirmed, then a changed record is rejected, then the confirmed
    version comes back: nothing is sent, and nothing stays pending."""
    config = sandbox_config(fresh_sandbox, tmp_path)
    good = ACCEPTANCE_RECORDS[0]
    assert run_target(config, singer_lines([good]), tmp_path).returncode == 0
    bad = {**good, "color": "PURPLE"}
    assert run_target(config, singer_lines([bad]), tmp_path).report["rejected"] == 1
    calls = product_calls(fresh_sandbox.stats())

    back = run_target(config, singer_lines([good]), tmp_path)

    assert (back.report["unchanged"], back.report["retried"]) == (1, 0)
    assert product_calls(fresh_sandbox.stats()) == calls
    assert pending(Path(config["cache_path"])).stdout == ""


def test_retry_is_off_at_zero_days_and_old_products_age_out(
    fresh_sandbox: Any, tmp_path: Path
) -> None:
    config = sandbox_config(fresh_sandbox, tmp_path, retry_rejected_days=0)
    assert run_target(config, singer_lines(ACCEPTANCE_RECORDS), tmp_path).returncode == 0
    assert pending(Path(config["cache_path"])).stdout == ""

    config = sandbox_config(fresh_sandbox, tmp_path, retry_rejected_days=14)
    assert run_target(config, singer_lines(ACCEPTANCE_RECORDS), tmp_path).returncode == 0
    assert pending(Path(config["cache_path"])).stdout.count("\n") == 1
    with sqlite3.connect(config["cache_path"]) as db:
        db.execute("UPDATE rejected SET first_rejected = '2000-01-01T00:00:00+00:00'")
    add_option(fresh_sandbox, "color", "PURPLE")

    run = run_target(config, singer_lines([]), tmp_path)

    assert run.returncode == 0, run.stderr
    assert "1 rejected product(s) first rejected over 14 days ago are no longer retried" in (
        run.stderr
    )
    assert run.report["retried"] == 0
    assert fresh_sandbox.get_product("SKU-100237") is None


def test_unmappable_record_is_kept_and_retried_with_the_current_mapping(
    fresh_sandbox: Any, tmp_path: Path
) -> None:
    bad = {**ACCEPTANCE_RECORDS[1], "weight": "heavy"}
    config = sandbox_config(fresh_sandbox, tmp_path)
    first = run_target(config, singer_lines([bad]), tmp_path)
    assert [d["reason"] for d in first.dead_letters()] == ["mapping_error"]

    mapping = acceptance_mapping()
    del mapping["products"]["values"]["weight"]
    fixed = sandbox_config(fresh_sandbox, tmp_path, mapping=mapping)
    del fixed["mapping_file"]
    run = run_target(fixed, singer_lines([]), tmp_path)

    assert run.returncode == 0, run.stderr
    assert (run.report["retried"], run.report["created"]) == (1, 1)
    assert fresh_sandbox.get_product("SKU-100235") is not None


def test_run_files_are_named_for_the_run_and_never_reused(tmp_path: Path) -> None:
    started = datetime.datetime(2026, 12, 1, 23, 0, tzinfo=datetime.UTC)
    first, second = (RunFileWriter(tmp_path / "dead-letter.jsonl", started) for _ in range(2))
    first.write({"n": 1})
    second.write({"n": 2})
    first.close()
    second.close()
    assert [p.name for p in sorted(tmp_path.iterdir())] == [
        "dead-letter-20261201T230000Z-2.jsonl",
        "dead-letter-20261201T230000Z.jsonl",
    ]
    assert first.path.read_text(encoding="utf-8") == '{"n": 1}\n'


def test_many_rejected_products_are_retried_in_chunks_and_all_land(
    fresh_sandbox: Any, tmp_path: Path
) -> None:
    """Issue 21: retries are read and sent in chunks; every one lands once, and a newer
    record in the stream's first batch still wins over its pending one."""
    many = [
        {**ACCEPTANCE_RECORDS[3], "sku": f"SKU-9{n:05d}", "erp_id": 900000 + n, "ean": None}
        for n in range(1234)
    ]
    config = sandbox_config(fresh_sandbox, tmp_path)
    first = run_target(config, singer_lines(many), tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.report["rejected"] == len(many)
    add_option(fresh_sandbox, "color", "PURPLE")
    newer = {**many[-1], "color": "RD"}
    calls = product_calls(fresh_sandbox.stats())

    run = run_target(config, singer_lines([newer]), tmp_path)

    assert run.returncode == 0, run.stderr
    report = run.report
    assert (report["retried"], report["created"]) == (len(many) - 1, len(many))
    assert (report["rejected"], report["still_rejected"]) == (0, 0)
    # Sent once each, in full requests of 100.
    assert product_calls(fresh_sandbox.stats()) == calls + 13
    assert fresh_sandbox.get_product("SKU-900000")["values"]["color"][0]["data"] == "PURPLE"
    last = fresh_sandbox.get_product(many[-1]["sku"])
    assert last["values"]["color"] == [{"locale": None, "scope": None, "data": "red"}]
    assert pending(Path(config["cache_path"])).stdout == ""
