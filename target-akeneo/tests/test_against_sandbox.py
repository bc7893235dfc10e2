"""Every rule of the issue, through the `target-akeneo` CLI against a real sandbox process."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from target_akeneo.testing import (
    ACCEPTANCE_RECORDS,
    CATALOG,
    acceptance_mapping,
    dead_letter_files,
    expected,
    frequent_drains_command,
    preview_rows,
    run_target,
    sandbox_config,
    singer_lines,
    start_target,
)

PRODUCT_ROUTES = ("/api/rest/v1/products", "/api/rest/v1/products-uuid")


def product_patches(stats: dict[str, Any]) -> int:
    return sum(
        row["count"]
        for row in stats["requests"]
        if row["method"] == "PATCH" and row["route"] in PRODUCT_ROUTES
    )


def product_calls(stats: dict[str, Any]) -> int:
    return sum(row["count"] for row in stats["requests"] if row["route"].startswith(PRODUCT_ROUTES))


def stored(product: dict[str, Any] | None) -> dict[str, Any]:
    assert product is not None
    return {key: product.get(key) for key in ("family", "enabled", "categories", "values")}


def many_records(count: int, prefix: str = "BULK") -> list[dict[str, Any]]:
    base = ACCEPTANCE_RECORDS[0]
    records = []
    for number in range(count):
        record = dict(base, sku=f"{prefix}-{number:05d}", ean=None)
        record["name"] = {"en": f"Product {number}"}
        records.append(record)
    return records


def test_acceptance_case(fresh_sandbox: Any, tmp_path: Path) -> None:
    run = run_target(
        sandbox_config(fresh_sandbox, tmp_path), singer_lines(ACCEPTANCE_RECORDS), tmp_path
    )
    assert run.returncode == 0, run.stderr
    want = expected()
    for sku in ("SKU-100234", "SKU-100235", "SKU-100236"):
        assert stored(fresh_sandbox.get_product(sku)) == want[sku]
    assert fresh_sandbox.get_product("SKU-100237") is None
    letters = run.dead_letters()
    assert [letter["identifier"] for letter in letters] == want["_rejected"]
    letter = letters[0]
    assert letter["reason"] == "rejected_by_pim"
    assert letter["status_code"] == 422
    assert letter["message"]
    assert any("color" in json.dumps(error) for error in letter["errors"])
    assert letter["record"]["color"] == "PURPLE"
    assert letter["payload"]["values"]["color"][0]["data"] == "PURPLE"
    report = run.report
    assert (report["received"], report["created"], report["rejected"]) == (4, 3, 1)
    assert report["received"] == sum(
        report[k] for k in ("created", "updated", "unchanged", "rejected")
    )
    assert run.states() == [{"bookmarks": {"products": {"done": True}}}]
    assert (
        "target-akeneo summary: received=4 created=3 updated=0 unchanged=0 rejected=1" in run.stderr
    )


def test_bad_mapping_stops_before_any_product(fresh_sandbox: Any, tmp_path: Path) -> None:
    mapping = acceptance_mapping()
    values = mapping["products"]["values"]
    values["colour"] = values.pop("color")
    values["name"] = {"field": "name", "locales": {"en": "en_US", "it": "it_IT"}}
    values["weight"] = {"field": "weight", "unit": "LITER"}
    values["ean"] = {"field": "ean", "scope": "ecommerce"}
    mapping["products"]["family"]["map"]["SHOES"] = "shoez"
    config = sandbox_config(fresh_sandbox, tmp_path, mapping=mapping)
    del config["mapping_file"]
    run = run_target(config, singer_lines(ACCEPTANCE_RECORDS), tmp_path)
    assert run.returncode != 0
    errors = [line for line in run.stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 5, run.stderr
    assert "did you mean 'color'?" in run.stderr
    assert "locale 'it_IT' is not activated" in run.stderr
    assert "unit 'LITER' is not in the measurement family 'Weight'" in run.stderr
    assert "attribute 'ean' is not scopable" in run.stderr
    assert "family 'shoez' does not exist" in run.stderr
    assert "Traceback" not in run.stderr
    assert product_calls(fresh_sandbox.stats()) == 0
    assert fresh_sandbox.all_products() == []


def test_batches_of_at_most_100_lines(fresh_sandbox: Any, tmp_path: Path) -> None:
    run = run_target(
        sandbox_config(fresh_sandbox, tmp_path), singer_lines(many_records(250)), tmp_path
    )
    assert run.returncode == 0, run.stderr
    assert product_patches(fresh_sandbox.stats()) == 3
    assert len(fresh_sandbox.all_products()) == 250
    assert run.report["created"] == 250
    assert run.report["product_requests"] == 3


def test_duplicates_in_one_run_are_sent_once_newest_wins(
    fresh_sandbox: Any, tmp_path: Path
) -> None:
    first = dict(ACCEPTANCE_RECORDS[0], name={"en": "Old name"})
    records = [first, ACCEPTANCE_RECORDS[1], ACCEPTANCE_RECORDS[0]]
    run = run_target(sandbox_config(fresh_sandbox, tmp_path), singer_lines(records), tmp_path)
    assert run.returncode == 0, run.stderr
    product = fresh_sandbox.get_product("SKU-100234")
    assert product["values"]["name"][0]["data"] == "Trail runner"
    assert run.report["created"] == 2
    assert run.report["received"] == 3
    assert product_patches(fresh_sandbox.stats()) == 1


def test_skip_unchanged_second_run_sends_nothing(fresh_sandbox: Any, tmp_path: Path) -> None:
    config = sandbox_config(fresh_sandbox, tmp_path)
    good = singer_lines(ACCEPTANCE_RECORDS[:3])
    assert run_target(config, good, tmp_path).returncode == 0
    before = product_patches(fresh_sandbox.stats())
    second = run_target(config, good, tmp_path)
    assert second.returncode == 0, second.stderr
    assert product_patches(fresh_sandbox.stats()) == before
    assert second.report["unchanged"] == 3
    assert second.report["product_requests"] == 0
    changed = [dict(ACCEPTANCE_RECORDS[0], ean="4006381333900"), *ACCEPTANCE_RECORDS[1:3]]
    third = run_target(config, singer_lines(changed), tmp_path)
    assert (third.report["updated"], third.report["unchanged"]) == (1, 2)
    assert fresh_sandbox.get_product("SKU-100234")["values"]["ean"][0]["data"] == "4006381333900"


def test_create_missing_options(fresh_sandbox: Any, tmp_path: Path) -> None:
    config = sandbox_config(fresh_sandbox, tmp_path, create_missing_options=True)
    run = run_target(config, singer_lines(ACCEPTANCE_RECORDS), tmp_path)
    assert run.returncode == 0, run.stderr
    product = fresh_sandbox.get_product("SKU-100237")
    assert product["values"]["color"][0]["data"] == "PURPLE"
    assert run.report["rejected"] == 0
    assert run.dead_letters() == []


def test_dry_run_sends_no_product(fresh_sandbox: Any, tmp_path: Path) -> None:
    config = sandbox_config(fresh_sandbox, tmp_path, dry_run=True)
    run = run_target(config, singer_lines(ACCEPTANCE_RECORDS), tmp_path)
    assert run.returncode == 0, run.stderr
    calls = [r for r in fresh_sandbox.stats()["requests"] if r["route"].startswith(PRODUCT_ROUTES)]
    # Only the change preview's read of the current products: one search for four.
    assert [(r["method"], r["count"]) for r in calls] == [("GET", 1)]
    assert run.report["preview_reads"] == 1
    assert fresh_sandbox.all_products() == []
    lines = Path(config["dry_run_path"]).read_text(encoding="utf-8").splitlines()
    payloads = {
        json.loads(line)["payload"]["identifier"]: json.loads(line)["payload"] for line in lines
    }
    assert sorted(payloads) == ["SKU-100234", "SKU-100235", "SKU-100236", "SKU-100237"]
    assert payloads["SKU-100236"]["categories"] == []
    assert run.report["planned"] == 4


def test_dry_run_preview_after_a_run(fresh_sandbox: Any, tmp_path: Path) -> None:
    """Products confirmed before are unchanged without a read; an unmappable record is refused
    with the mapping's message."""
    config = sandbox_config(fresh_sandbox, tmp_path)
    assert run_target(config, singer_lines(ACCEPTANCE_RECORDS[:2]), tmp_path).returncode == 0
    broken = dict(ACCEPTANCE_RECORDS[2], prices=[{"amount": "cheap", "currency": "EUR"}])
    dry = config | {"dry_run": True}
    run = run_target(dry, singer_lines([*ACCEPTANCE_RECORDS[:2], broken]), tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.report["preview_reads"] == 0
    rows = preview_rows(Path(dry["preview_path"]))
    assert {key: row["s"] for key, row in rows.items()} == {
        "SKU-100234": "unchanged", "SKU-100235": "unchanged", "SKU-100236": "refused",
    }  # fmt: skip
    assert "skip_unchanged" in rows["SKU-100234"]["n"]
    assert run.dead_letters()[0]["message"] == rows["SKU-100236"]["r"]


def test_dry_run_preview_by_uuid(fresh_sandbox: Any, tmp_path: Path) -> None:
    """Through /products-uuid the preview finds the products by their identifier value."""
    config = sandbox_config(fresh_sandbox, tmp_path, product_endpoint="uuid")
    assert run_target(config, singer_lines(ACCEPTANCE_RECORDS[:2]), tmp_path).returncode == 0
    renamed = dict(ACCEPTANCE_RECORDS[1], name={"en": "Merino tee II"})
    dry = config | {"dry_run": True, "skip_unchanged": False}
    records = [ACCEPTANCE_RECORDS[0], renamed, ACCEPTANCE_RECORDS[2]]
    run = run_target(dry, singer_lines(records), tmp_path)
    assert run.returncode == 0, run.stderr
    rows = preview_rows(Path(dry["preview_path"]))
    assert {key: row["s"] for key, row in rows.items()} == {
        "SKU-100234": "unchanged", "SKU-100235": "changed", "SKU-100236": "new",
    }  # fmt: skip
    assert rows["SKU-100235"]["d"] == [["name", "en_US", "", "Merino tee", "Merino tee II"]]


def test_fail_on_rejected_exits_non_zero(fresh_sandbox: Any, tmp_path: Path) -> None:
    config = sandbox_config(fresh_sandbox, tmp_path, fail_on_rejected=True)
    run = run_target(config, singer_lines(ACCEPTANCE_RECORDS), tmp_path)
    assert run.returncode != 0
    assert "1 product(s) rejected" in run.stderr
    assert len(fresh_sandbox.all_products()) == 3
    assert run.states()  # confirmed work still acknowledged before the failing exit


def test_mapping_error_goes_to_dead_letter_and_run_continues(
    fresh_sandbox: Any, tmp_path: Path
) -> None:
    broken = dict(ACCEPTANCE_RECORDS[1], weight="heavy")
    records = [ACCEPTANCE_RECORDS[0], broken]
    run = run_target(sandbox_config(fresh_sandbox, tmp_path), singer_lines(records), tmp_path)
    assert run.returncode == 0, run.stderr
    letters = run.dead_letters()
    assert [(x["identifier"], x["reason"]) for x in letters] == [("SKU-100235", "mapping_error")]
    assert "values.weight" in letters[0]["message"]
    assert fresh_sandbox.get_product("SKU-100234") is not None


def test_wrong_credentials_one_clear_line(fresh_sandbox: Any, tmp_path: Path) -> None:
    config = sandbox_config(fresh_sandbox, tmp_path, password="wrong-password-123")
    run = run_target(config, singer_lines(ACCEPTANCE_RECORDS), tmp_path)
    assert run.returncode != 0
    assert "No user found for the given username and password" in run.stderr
    assert "wrong-password-123" not in run.stderr
    assert "Traceback" not in run.stderr


def test_unreachable_pim_names_the_url(tmp_path: Path) -> None:
    class Nowhere:
        base_url = "http://127.0.0.1:9"
        client_id, secret, username, password = "c", "secret-abc", "u", "password-abc"

    run = run_target(sandbox_config(Nowhere, tmp_path), singer_lines(ACCEPTANCE_RECORDS), tmp_path)
    assert run.returncode != 0
    assert "cannot connect to the PIM at http://127.0.0.1:9" in run.stderr
    assert "Traceback" not in run.stderr


def test_uuid_endpoint(fresh_sandbox: Any, tmp_path: Path) -> None:
    config = sandbox_config(fresh_sandbox, tmp_path, product_endpoint="uuid", skip_unchanged=False)
    run = run_target(config, singer_lines(ACCEPTANCE_RECORDS), tmp_path)
    assert run.returncode == 0, run.stderr
    want = expected()
    for sku in ("SKU-100234", "SKU-100235", "SKU-100236"):
        assert stored(fresh_sandbox.get_product(sku)) == want[sku]
    uuids = uuids_by_identifier(fresh_sandbox)
    assert sorted(uuids) == ["SKU-100234", "SKU-100235", "SKU-100236"]
    again = run_target(config, singer_lines(ACCEPTANCE_RECORDS), tmp_path)
    assert again.report["updated"] == 3
    assert uuids_by_identifier(fresh_sandbox) == uuids
    assert (run.report["product_requests"], again.report["product_requests"]) == (2, 2)


def uuids_by_identifier(sandbox: Any) -> dict[str, str]:
    response = sandbox.api_get("products-uuid", limit=100)
    response.raise_for_status()
    items = response.json()["_embedded"]["items"]
    return {item["values"]["sku"][0]["data"]: item["uuid"] for item in items}


@pytest.mark.slow
@pytest.mark.reliability
def test_faults_are_retried_and_nothing_is_lost(tmp_path: Path) -> None:
    from akeneo_sandbox.testing import SandboxProcess
    from target_akeneo.testing import CATALOG

    faults = "429=0.08,500=0.04,503=0.04,reset=0.03,slow=0.02"
    with SandboxProcess(catalog=CATALOG, faults=faults, seed=7, slow_seconds=2) as sandbox:
        config = sandbox_config(
            sandbox, tmp_path, request_timeout=0.5, max_retries=10, batch_size=20
        )
        run = run_target(config, singer_lines(many_records(400)), tmp_path)
        assert run.returncode == 0, run.stderr
        assert run.report["created"] + run.report["updated"] == 400
        assert run.report["retries"] > 0
        assert len(sandbox.all_products()) == 400
        assert sum(sandbox.stats()["faults_injected"].values()) > 0


@pytest.mark.slow
def test_token_expiring_mid_run_is_renewed(tmp_path: Path) -> None:
    from akeneo_sandbox.testing import SandboxProcess
    from target_akeneo.testing import CATALOG

    schema, *lines = singer_lines(many_records(600)).splitlines(keepends=True)
    with SandboxProcess(catalog=CATALOG, token_ttl=1) as sandbox:
        config = sandbox_config(sandbox, tmp_path, batch_size=5, max_concurrency=1)
        target = start_target(config, tmp_path)
        assert target.stdin is not None
        target.stdin.write(schema + "".join(lines[:300]))
        target.stdin.flush()
        time.sleep(1.5)  # the target outruns a 1 s token: pause so it expires mid-run
        _, stderr = target.communicate("".join(lines[300:]), timeout=120)
        assert target.returncode == 0, stderr
        assert len(sandbox.all_products()) == 600
    report = json.loads(Path(config["run_report_path"]).read_text(encoding="utf-8"))
    assert report["token_grants"] >= 2


def test_pim_gone_mid_run_fails_naming_the_url_and_emits_no_state(tmp_path: Path) -> None:
    from akeneo_sandbox.testing import SandboxProcess

    with SandboxProcess(catalog=CATALOG) as doomed:
        config = sandbox_config(doomed, tmp_path, max_retries=2)
        schema, *rest = singer_lines(ACCEPTANCE_RECORDS).splitlines(keepends=True)
        target = start_target(config, tmp_path)
        assert target.stdin is not None
        target.stdin.write(schema)
        target.stdin.flush()
        deadline = time.monotonic() + 30
        while doomed.stats()["requests_total"] < 3 and time.monotonic() < deadline:
            time.sleep(0.1)  # the target has authenticated and reads the structure
        time.sleep(0.5)
        doomed.kill()
        stdout, stderr = target.communicate("".join(rest), timeout=120)

    assert target.returncode == 1
    assert f"the PIM at {doomed.base_url} is unavailable" in stderr
    assert "Traceback" not in stderr
    assert '"type": "STATE"' not in stdout.replace('"type":"STATE"', '"type": "STATE"')
    (this_run,) = dead_letter_files(config)
    unconfirmed = [json.loads(line) for line in this_run.open()]
    assert {entry["identifier"] for entry in unconfirmed} == {
        "SKU-100234",
        "SKU-100235",
        "SKU-100236",
        "SKU-100237",
    }
    assert {entry["reason"] for entry in unconfirmed} == {"retries_exhausted"}


def _record_lines(records: list[dict[str, Any]]) -> str:
    messages = [{"type": "RECORD", "stream": "products", "record": r} for r in records]
    return "".join(json.dumps(message) + "\n" for message in messages)


def _state_line(value: dict[str, Any]) -> str:
    return json.dumps({"type": "STATE", "value": value}) + "\n"


@pytest.mark.slow
def test_state_is_emitted_only_after_the_products_before_it_are_in_the_pim(
    tmp_path: Path,
) -> None:
    """Sending is pipelined, so STATE must wait for every answer it covers.

    singer-sdk emits STATE on full drains only (end of input, and every 5 minutes, shortened
    here to 1 s through the class attribute), so the input pauses after the first STATE to
    get one mid-run. 429s with Retry-After keep chunks unanswered for a while: a STATE
    written before their answers would find products missing from the PIM.
    """
    from akeneo_sandbox.testing import SandboxProcess

    schema, *_ = singer_lines([]).splitlines(keepends=True)
    first, second = many_records(1100, "FIRST"), many_records(1100, "SECOND")
    with SandboxProcess(catalog=CATALOG, faults="429=0.3", seed=3) as sandbox:
        config = sandbox_config(sandbox, tmp_path, max_retries=10)
        target = start_target(config, tmp_path, frequent_drains_command())
        assert target.stdin is not None
        assert target.stdout is not None
        stdin = target.stdin

        def feed() -> None:
            stdin.write(schema + _record_lines(first) + _state_line({"upto": 1100}))
            stdin.flush()
            time.sleep(1.5)
            stdin.write(_record_lines(second) + _state_line({"upto": 2200}))
            stdin.close()

        feeder = threading.Thread(target=feed)
        feeder.start()
        seen = []
        for line in target.stdout:
            state = json.loads(line)
            seen.append((state, sandbox.stats()["products_total"]))
        feeder.join()
        stderr = target.stderr.read() if target.stderr else ""
        assert target.wait(timeout=120) == 0, stderr
        stored = {product["identifier"] for product in sandbox.all_products()}

    assert [state for state, _ in seen] == [{"upto": 1100}, {"upto": 2200}]
    for state, products_in_pim in seen:
        assert products_in_pim >= state["upto"]
    assert stored == {record["sku"] for record in first + second}
    report = json.loads(Path(config["run_report_path"]).read_text(encoding="utf-8"))
    assert (report["created"], report["rejected"]) == (2200, 0)


def test_pim_killed_with_chunks_in_flight_emits_no_state(tmp_path: Path) -> None:
    """Products confirmed before the PIM went away do not earn a STATE for the others."""
    from akeneo_sandbox.testing import SandboxProcess

    schema, *_ = singer_lines([]).splitlines(keepends=True)
    records = many_records(3000, "GONE")
    with SandboxProcess(catalog=CATALOG) as doomed:
        config = sandbox_config(doomed, tmp_path, max_retries=2)
        target = start_target(config, tmp_path)
        assert target.stdin is not None
        target.stdin.write(schema + _record_lines(records[:1000]) + _state_line({"upto": 1000}))
        target.stdin.flush()
        deadline = time.monotonic() + 30
        while product_patches(doomed.stats()) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        doomed.kill()
        rest = _record_lines(records[1000:]) + _state_line({"upto": 3000})
        stdout, stderr = target.communicate(rest, timeout=120)

    assert target.returncode == 1
    assert f"the PIM at {doomed.base_url} is unavailable" in stderr
    assert "Traceback" not in stderr
    assert stdout.strip() == ""
    report = json.loads(Path(config["run_report_path"]).read_text(encoding="utf-8"))
    assert report["created"] >= 300
    assert report["received"] == report["created"] + report["rejected"]
    (this_run,) = dead_letter_files(config)
    letters = [json.loads(line) for line in this_run.open()]
    assert len(letters) == report["rejected"] > 0
    assert {letter["reason"] for letter in letters} == {"retries_exhausted"}
