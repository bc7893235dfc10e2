"""Two exports as two partitions of the Dagster job, at once, against one limited PIM.

Each partition runs in its own `dagster job execute` process (its run in-process there), both
on one Dagster instance whose `dagster.yaml` is the shipped template, so the concurrency pool is
the instance's, as on a deployment. (Two runs in threads of one Python process can deadlock in
Dagster's logging set-up, hence one process per run.)
"""

from __future__ import annotations

import copy
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import yaml

from akeneo_sandbox.testing import SandboxProcess
from erp_to_akeneo_dagster.build import pool_limit
from orchestrate.tests.dagster_support import execute_at_once, instance_home
from tests.support import ACCEPTANCE, ROOT, MeltanoProject, base_env
from tests.test_pipeline import comparable, expected_products

pytestmark = pytest.mark.e2e

ERP_NS = "urn:acme:erp:products:1"
# The acceptance products split into two exports; SKU-100237 is the one the PIM refuses.
EXPORTS = {"north": ["SKU-100234", "SKU-100235"], "south": ["SKU-100236", "SKU-100237"]}
# Plus copies of SKU-100236 (it has no EAN, the one unique attribute): several batches per run,
# so that each run keeps its share of the connection busy.
COPIES = 600
TEMPLATE = "SKU-100236"


def copy_sku(key: str, number: int) -> str:
    return f"{TEMPLATE}-{key}-{number:04d}"


def write_export(target: Path, key: str) -> None:
    """The acceptance export reduced to the export's products, plus the copies."""
    ET.register_namespace("", ERP_NS)
    tree = ET.parse(ACCEPTANCE / "erp-products.xml")
    products = tree.getroot().find(f"{{{ERP_NS}}}Products")
    assert products is not None
    template = next(p for p in products if p.findtext(f"{{{ERP_NS}}}SKU") == TEMPLATE)
    for product in list(products):
        if product.findtext(f"{{{ERP_NS}}}SKU") not in EXPORTS[key]:
            products.remove(product)
    for number in range(COPIES):
        product = copy.deepcopy(template)
        sku = product.find(f"{{{ERP_NS}}}SKU")
        assert sku is not None
        sku.text = copy_sku(key, number)
        products.append(product)
    target.parent.mkdir(parents=True)
    tree.write(target, encoding="UTF-8", xml_declaration=True)


def expected_in_pim() -> dict[str, dict[str, Any]]:
    expected = expected_products()
    copies = {copy_sku(key, n): expected[TEMPLATE] for key in EXPORTS for n in range(COPIES)}
    return {**expected, **copies}


def exports_file(tmp_path: Path) -> Path:
    exports = {}
    for key in EXPORTS:
        write_export(tmp_path / "erp" / key / "products.xml", key)
        exports[key] = {"files": [str(tmp_path / "erp" / key / "*.xml")]}
    config = {
        "meltano": {"project_dir": str(ROOT)},  # environment: MELTANO_ENVIRONMENT=dev
        "pim": {"pool": "akeneo_pim", "connection_limit": 4, "runs_at_once": 2},
        "env": {
            "TARGET_AKENEO_RUN_REPORT_PATH": str(tmp_path / "{export}" / "run-report.json"),
            "TARGET_AKENEO_DEAD_LETTER_PATH": str(tmp_path / "{export}" / "dead-letter.jsonl"),
            "TARGET_AKENEO_CACHE_PATH": str(tmp_path / "{export}" / "cache.sqlite"),
        },
        "exports": exports,
    }
    path = tmp_path / "exports.yml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@pytest.fixture
def limited_sandbox() -> Iterator[SandboxProcess]:
    """Akeneo's 4 calls per connection, and delays that keep calls in flight a while."""
    with SandboxProcess(
        catalog=ACCEPTANCE / "catalog.json",
        limits="concurrent=4",
        latency="request=100ms,line=2ms",
    ) as sandbox:
        yield sandbox


def answered_429(stats: dict[str, Any]) -> int:
    return sum(int(row["count"]) for row in stats["requests"] if row["status"] == 429)


def test_two_exports_run_at_once_under_one_pim_connection(
    project: MeltanoProject,
    limited_sandbox: SandboxProcess,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project.point_at(limited_sandbox)
    # A system database exists before runs start side by side (two first runs would both
    # create its tables); a deployment has it from its first `meltano` command.
    assert project.run("upgrade", "database").returncode == 0
    home = instance_home(tmp_path, monkeypatch)
    with dg.DagsterInstance.get() as instance:
        assert pool_limit(instance, "akeneo_pim") == 2
    env = {
        **base_env(),
        **project.env,
        "DAGSTER_HOME": str(home),
        "ERP_TO_AKENEO_EXPORTS": str(exports_file(tmp_path)),
    }

    runs = execute_at_once("erp_to_pim", EXPORTS, env, tmp_path)

    for key, run in runs.items():
        assert run.returncode == 0, f"{key}:\n{run.stdout[-4000:]}"
    # Both exports' products, and only the one Akeneo refuses missing.
    in_pim = {p["identifier"]: comparable(p) for p in limited_sandbox.all_products()}
    assert in_pim == expected_in_pim()
    north = json.loads((tmp_path / "north" / "run-report.json").read_text(encoding="utf-8"))
    south = json.loads((tmp_path / "south" / "run-report.json").read_text(encoding="utf-8"))
    assert (north["received"], north["created"], north["rejected"]) == (COPIES + 2, COPIES + 2, 0)
    assert (south["received"], south["created"], south["rejected"]) == (COPIES + 2, COPIES + 1, 1)
    # Each run that rejects something writes its own dead-letter file, named for the run.
    assert list((tmp_path / "north").glob("dead-letter-*.jsonl")) == []
    (south_dead,) = (tmp_path / "south").glob("dead-letter-*.jsonl")
    dead = south_dead.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["identifier"] for line in dead] == ["SKU-100237"]
    # Every 429 came from the limits, and the pool kept both runs within them: none at all.
    stats = limited_sandbox.stats()
    assert answered_429(stats) == sum(stats["limits_rejected"].values())
    assert stats["faults_injected"] == {}
    assert stats["limits_rejected"].get("concurrent", 0) == 0, stats
    assert stats["in_flight_peak"] <= 4
    # Each export has its own Meltano state.
    states = project.run("state", "list")
    assert states.returncode == 0, states.stderr[-3000:]
    assert set(states.stdout.split()) == {f"dev:tap-erp-xml-to-target-akeneo:{k}" for k in EXPORTS}
    # One successful run per partition, showing its target's counts; the pool's limit as set.
    with dg.DagsterInstance.get() as instance:
        created = {}
        for record in instance.get_run_records():
            run_ = record.dagster_run
            assert run_.status == dg.DagsterRunStatus.SUCCESS
            outputs = instance.get_records_for_run(
                run_.run_id, of_type=dg.DagsterEventType.STEP_OUTPUT
            ).records
            event = outputs[0].event_log_entry.dagster_event
            assert event is not None
            assert event.step_output_data is not None
            metadata = event.step_output_data.metadata
            created[run_.tags["dagster/partition"]] = metadata["created"].value
        assert created == {"north": north["created"], "south": south["created"]}
        limits = {p.name: p.limit for p in instance.event_log_storage.get_pool_limits()}
        assert limits == {"akeneo_pim": 2}
