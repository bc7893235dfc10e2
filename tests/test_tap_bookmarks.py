"""End to end: a wrong record_path or a changed stream definition never leaves a file stuck
behind its bookmark (`meltano run` against a real akeneo-sandbox process)."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest
import yaml

from akeneo_sandbox.testing import SandboxProcess
from tests.support import ROOT, MeltanoProject

pytestmark = pytest.mark.e2e


def _streams() -> list[dict[str, Any]]:
    """The tap's stream definitions as meltano.yml configures them."""
    project = yaml.safe_load((ROOT / "meltano.yml").read_text(encoding="utf-8"))
    [tap] = [p for p in project["plugins"]["extractors"] if p["name"] == "tap-erp-xml"]
    return copy.deepcopy(tap["config"]["streams"])


def _en_name(sandbox: SandboxProcess, sku: str) -> object:
    product = sandbox.get_product(sku)
    assert product is not None, sku
    return [v["data"] for v in product["values"]["name"] if v["locale"] == "en_US"]


def test_wrong_record_path_then_fixed_path_then_changed_field(
    project: MeltanoProject, acceptance_sandbox: SandboxProcess
) -> None:
    project.point_at(acceptance_sandbox)
    wrong = _streams()
    wrong[0]["record_path"] = "/erp:Export/erp:Product"

    first = project.run(
        "run", "tap-erp-xml", "target-akeneo", env={"TAP_ERP_XML_STREAMS": json.dumps(wrong)}
    )

    assert first.returncode == 0, first.stderr[-4000:]
    assert (
        "erp-products.xml: no element matched record_path '/erp:Export/erp:Product'; "
        "the root element is {urn:acme:erp:products:1}ERPExport"
    ) in first.stderr
    assert acceptance_sandbox.all_products() == []

    fixed = project.run("run", "tap-erp-xml", "target-akeneo")  # meltano.yml's own path

    assert fixed.returncode == 0, fixed.stderr[-4000:]
    assert re.search(r"\b1 files read, 0 files unchanged", fixed.stderr), fixed.stderr[-4000:]
    identifiers = sorted(p["identifier"] for p in acceptance_sandbox.all_products())
    assert identifiers == ["SKU-100234", "SKU-100235", "SKU-100236"]
    assert _en_name(acceptance_sandbox, "SKU-100234") == ["Trail runner"]

    changed = _streams()
    changed[0]["fields"]["name"] = {"path": "erp:Description", "key": "@lang"}

    redefined = project.run(
        "run", "tap-erp-xml", "target-akeneo", env={"TAP_ERP_XML_STREAMS": json.dumps(changed)}
    )

    assert redefined.returncode == 0, redefined.stderr[-4000:]
    assert "read with another stream definition" in redefined.stderr
    assert re.search(r"\b1 files read, 0 files unchanged", redefined.stderr)
    assert _en_name(acceptance_sandbox, "SKU-100234") == ["Lightweight trail running shoe & more."]


def test_full_export_through_meltano_activates_only_an_export_it_read(
    project: MeltanoProject, acceptance_sandbox: SandboxProcess
) -> None:
    """The target gets ACTIVATE_VERSION after the export's records, and none for a run
    that read nothing (which would otherwise look like an export without products)."""
    project.point_at(acceptance_sandbox)
    streams = _streams()
    streams[0]["full_export"] = True
    env = {"TAP_ERP_XML_STREAMS": json.dumps(streams)}

    first = project.run("run", "tap-erp-xml", "target-akeneo", env=env)

    assert first.returncode == 0, first.stderr[-4000:]
    assert re.search(
        r"full_export: ACTIVATE_VERSION \d+ after 4 records from 1 files", first.stderr
    )
    identifiers = sorted(p["identifier"] for p in acceptance_sandbox.all_products())
    assert identifiers == ["SKU-100234", "SKU-100235", "SKU-100236"]

    second = project.run("run", "tap-erp-xml", "target-akeneo", env=env)

    assert second.returncode == 0, second.stderr[-4000:]
    assert "no file changed, so no export was read and no ACTIVATE_VERSION" in second.stderr
    assert "full_export: ACTIVATE_VERSION" not in second.stderr
    assert len(acceptance_sandbox.all_products()) == 3
