"""End to end, issue 12: a nightly `meltano run` rejects a product for a missing option, the
option is added in the PIM, and the next run over the unchanged export puts it in the PIM."""

from __future__ import annotations

import json
import re

import pytest
import requests

from akeneo_sandbox.testing import SandboxProcess
from tests.support import MeltanoProject, product_requests

pytestmark = pytest.mark.e2e


def test_rejected_product_arrives_after_the_option_is_added(
    project: MeltanoProject, acceptance_sandbox: SandboxProcess
) -> None:
    project.point_at(acceptance_sandbox)

    nightly = project.run("run", "tap-erp-xml", "target-akeneo")

    assert nightly.returncode == 0, nightly.stderr[-4000:]
    assert [d["identifier"] for d in project.dead_letters()] == ["SKU-100237"]
    assert acceptance_sandbox.get_product("SKU-100237") is None

    added = requests.post(
        f"{acceptance_sandbox.base_url}/api/rest/v1/attributes/color/options",
        json={"code": "PURPLE", "attribute": "color", "labels": {"en_US": "Purple"}},
        headers={"Authorization": f"Bearer {acceptance_sandbox.token()}"},
        timeout=10,
    )
    assert added.status_code == 201, added.text

    next_night = project.run("run", "tap-erp-xml", "target-akeneo")

    assert next_night.returncode == 0, next_night.stderr[-4000:]
    assert re.search(r"\b0 files read, 1 files unchanged", next_night.stderr), next_night.stderr
    product = acceptance_sandbox.get_product("SKU-100237")
    assert product is not None
    assert product["values"]["color"] == [{"locale": None, "scope": None, "data": "PURPLE"}]
    report = json.loads(project.run_report.read_text(encoding="utf-8"))
    assert (report["received"], report["retried"], report["created"]) == (1, 1, 1)
    assert (report["rejected"], report["still_rejected"]) == (0, 0)
    writes = product_requests(acceptance_sandbox.stats())

    third = project.run("run", "tap-erp-xml", "target-akeneo")

    assert third.returncode == 0, third.stderr[-4000:]
    assert product_requests(acceptance_sandbox.stats()) == writes
    report = json.loads(project.run_report.read_text(encoding="utf-8"))
    assert (report["received"], report["retried"]) == (0, 0)
    # Only the first night rejected something: one dead-letter file, named for that run.
    (only,) = project.dead_letter_files
    assert re.fullmatch(r"dead-letter-\d{8}T\d{6}Z\.jsonl", only.name)
