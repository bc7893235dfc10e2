"""Object settings (`stream_maps`) reach both plugins from Meltano's environment variables.

`meltano config set` of the same settings is played by the new-user test in
test_packaging.py, in a project of its own (it would write to this repository's meltano.yml).
"""

from __future__ import annotations

import json

import pytest

from akeneo_sandbox.testing import SandboxProcess
from tests.support import MeltanoProject

pytestmark = pytest.mark.e2e


def test_tap_stream_maps_from_an_environment_variable(project: MeltanoProject) -> None:
    maps = {"products": {"color": "'BL'", "ean": "__NULL__"}}

    result = project.run(
        "run", "tap-erp-xml", "target-jsonl", env={"TAP_ERP_XML_STREAM_MAPS": json.dumps(maps)}
    )

    assert result.returncode == 0, result.stderr[-4000:]
    lines = (project.work / "jsonl" / "products.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == 4
    assert {r["color"] for r in records} == {"BL"}
    assert [r for r in records if "ean" in r] == []


def test_target_stream_maps_from_an_environment_variable(
    project: MeltanoProject, acceptance_sandbox: SandboxProcess
) -> None:
    project.point_at(acceptance_sandbox)
    maps = {"products": {"status": "'inactive'"}}

    result = project.run(
        "run",
        "tap-erp-xml",
        "target-akeneo",
        env={"TARGET_AKENEO_STREAM_MAPS": json.dumps(maps)},
    )

    assert result.returncode == 0, result.stderr[-4000:]
    products = acceptance_sandbox.all_products()
    assert len(products) == 3  # SKU-100237 is still refused for its colour
    assert {p["enabled"] for p in products} == {False}
