"""Against a sandbox that behaves like a loaded PIM (`--limits`, `--latency`): the target backs
off by itself and loses nothing; the uuid endpoint's store saves the search requests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from akeneo_sandbox.testing import SandboxProcess
from target_akeneo.testing import (
    ACCEPTANCE_RECORDS,
    CATALOG,
    run_target,
    sandbox_config,
    singer_lines,
)

LATENCY = "request=20ms,line=1ms"
# A 100-line PATCH takes 1 s: long enough that a client on a loaded machine still has more
# requests in flight than the PIM allows.
SLOW = "request=300ms,line=7ms"
UUID_ROUTE = "/api/rest/v1/products-uuid"


def many_records(count: int) -> list[dict[str, Any]]:
    base = ACCEPTANCE_RECORDS[0]
    return [
        dict(base, sku=f"LOAD-{number:05d}", ean=None, name={"en": f"Product {number}"})
        for number in range(count)
    ]


def throttled(stats: dict[str, Any]) -> int:
    return sum(row["count"] for row in stats["requests"] if row["status"] == 429)


def requests_to(stats: dict[str, Any], method: str, route: str) -> int:
    return sum(
        row["count"]
        for row in stats["requests"]
        if row["method"] == method and row["route"] == route and row["status"] != 429
    )


@pytest.mark.slow
@pytest.mark.parametrize("limits", ["concurrent=2,rate=100", "concurrent=4,rate=2"])
def test_max_concurrency_4_against_tighter_limits_loses_nothing_and_backs_off(
    tmp_path: Path, limits: str
) -> None:
    products = 3000
    with SandboxProcess(catalog=CATALOG, limits=limits, latency=SLOW) as pim:
        config = sandbox_config(pim, tmp_path, max_concurrency=4)
        run = run_target(config, singer_lines(many_records(products)), tmp_path)
        assert run.returncode == 0, run.stderr
        stats = pim.stats()
    report, control = run.report, run.report["concurrency"]
    assert (report["created"], report["rejected"]) == (products, 0)
    assert stats["products_total"] == products
    assert run.dead_letters() == []
    # Every 429 the PIM answered reached the controller, which backed off below 4.
    assert control["throttled"] == throttled(stats) == sum(stats["limits_rejected"].values())
    assert control["ceiling"] == 4
    assert control["lowest"] < 4
    assert control["decreases"] >= 1


@pytest.mark.slow
def test_concurrent_2_is_found_and_kept_with_few_429s(tmp_path: Path) -> None:
    with SandboxProcess(catalog=CATALOG, limits="concurrent=2", latency=SLOW) as pim:
        config = sandbox_config(pim, tmp_path, max_concurrency=4)
        run = run_target(config, singer_lines(many_records(1500)), tmp_path)
        assert run.returncode == 0, run.stderr
        stats = pim.stats()
    assert stats["in_flight_peak"] == 2
    control = run.report["concurrency"]
    assert control["lowest"] == 2
    assert control["limit"] in (2, 3)
    # Few 429s: one burst at the start, then at most one per probe of a higher limit.
    assert throttled(stats) <= (control["ceiling"] - control["lowest"]) + control["increases"]


def product_uuids(pim: SandboxProcess) -> dict[str, str]:
    found: dict[str, str] = {}
    url: str | None = f"{pim.base_url}{UUID_ROUTE}?limit=100"
    headers = {"Authorization": f"Bearer {pim.token()}"}
    while url:
        page = requests.get(url, headers=headers, timeout=10).json()
        for item in page["_embedded"]["items"]:
            found[item["values"]["sku"][0]["data"]] = item["uuid"]
        url = page["_links"].get("next", {}).get("href")
    return found


def run_counting(
    pim: SandboxProcess, config: dict[str, Any], records: list[dict[str, Any]], tmp_path: Path
) -> tuple[Any, int, int]:
    """A target run, with the uuid searches and product PATCHes the PIM answered during it."""
    before = pim.stats()
    run = run_target(config, singer_lines(records), tmp_path)
    assert run.returncode == 0, run.stderr
    after = pim.stats()
    searches, patches = (
        requests_to(after, method, UUID_ROUTE) - requests_to(before, method, UUID_ROUTE)
        for method in ("GET", "PATCH")
    )
    return run, searches, patches


def test_uuid_store_saves_the_search_on_later_runs(tmp_path: Path) -> None:
    records = many_records(250)
    with SandboxProcess(catalog=CATALOG, limits="concurrent=4,rate=100", latency=LATENCY) as pim:
        config = sandbox_config(pim, tmp_path, product_endpoint="uuid", max_concurrency=4)
        first, searches, patches = run_counting(pim, config, records, tmp_path)
        assert (first.report["created"], searches, patches) == (250, 3, 3)
        uuids = product_uuids(pim)

        changed = [dict(record, name={"en": "Renamed"}) for record in records]
        updated, searches, patches = run_counting(pim, config, changed, tmp_path)
        assert (updated.report["updated"], searches, patches) == (250, 0, 3)
        assert product_uuids(pim) == uuids

        unchanged, searches, patches = run_counting(pim, config, changed, tmp_path)
        assert (unchanged.report["unchanged"], searches, patches) == (250, 0, 0)


def test_a_stale_stored_uuid_is_searched_again_on_the_next_run(tmp_path: Path) -> None:
    """The PIM was rebuilt and another tool made one product again under a new uuid."""
    records = many_records(30)
    with SandboxProcess(catalog=CATALOG) as pim:
        config = sandbox_config(pim, tmp_path, product_endpoint="uuid")
        run_counting(pim, config, records, tmp_path)
        pim.reset()
        other = sandbox_config(pim, tmp_path / "other-tool", product_endpoint="identifier")
        run_target(other, singer_lines(records[:1]), tmp_path)
        remade = product_uuids(pim)[records[0]["sku"]]

        changed = [dict(record, name={"en": "Renamed"}) for record in records]
        rebuilt, searches, _ = run_counting(pim, config, changed, tmp_path)
        assert (rebuilt.report["created"], rebuilt.report["rejected"], searches) == (29, 1, 0)
        assert [d["identifier"] for d in rebuilt.dead_letters()] == [records[0]["sku"]]

        healed, searches, patches = run_counting(pim, config, changed, tmp_path)
        assert (healed.report["updated"], healed.report["unchanged"]) == (1, 29)
        assert (searches, patches) == (1, 1)
        assert product_uuids(pim)[records[0]["sku"]] == remade
        assert pim.get_product(records[0]["sku"])["values"]["name"][0]["data"] == "Renamed"
