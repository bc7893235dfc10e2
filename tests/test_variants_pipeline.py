"""End to end: `meltano run` loads a flat variant export as models, sub-models and variants."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from akeneo_sandbox.testing import SandboxProcess
from tests.support import ROOT, MeltanoProject

pytestmark = pytest.mark.e2e

VARIANTS = ROOT / "tests" / "data" / "variants"


def test_flat_variant_export_becomes_models_and_variants(project: MeltanoProject) -> None:
    erp = project.work / "variants"
    erp.mkdir()
    shutil.copy(VARIANTS / "erp-variants.xml", erp / "erp-variants.xml")
    project.env.update(
        TAP_ERP_XML_FILES=json.dumps([str(erp / "*.xml")]),
        TAP_ERP_XML_STREAMS=(VARIANTS / "tap-streams.json").read_text(encoding="utf-8"),
        TARGET_AKENEO_MAPPING_FILE=str(VARIANTS / "mapping.yml"),
    )
    with SandboxProcess(catalog=VARIANTS / "catalog.json") as sandbox:
        project.point_at(sandbox)
        result = project.run("run", "tap-erp-xml", "target-akeneo")
        assert result.returncode == 0, result.stderr[-4000:]
        models = sandbox.all_product_models()
        products = sandbox.all_products()
        hoodie = sandbox.get_product("HOOD-RED-XL")
        stats = sandbox.stats()
    roots = sorted(m["code"] for m in models if m["parent"] is None)
    subs = sorted(m["code"] for m in models if m["parent"] is not None)
    assert roots == ["HOOD", "POLO", "TEE"]
    assert len(subs) == 9
    assert "POLO_white" in subs
    assert len(products) == 36
    assert all(p["parent"] for p in products)
    assert hoodie is not None
    assert hoodie["parent"] == "HOOD_red"
    assert hoodie["values"]["material"][0]["data"] == "fleece"  # shown from the root
    assert stats["values_dropped"] == 0
    report = json.loads(Path(project.run_report).read_text(encoding="utf-8"))
    assert (report["received"], report["created"], report["rejected"]) == (36, 36, 0)
    assert report["models"]["created"] == 12


def test_demo_apparel_run_shows_one_model_with_its_variants(project: MeltanoProject) -> None:
    """The second step of scripts/demo.sh, with the demo's catalog and files."""
    examples = ROOT / "examples"
    project.env.update(
        TAP_ERP_XML_FILES=json.dumps([str(examples / "apparel" / "*.xml")]),
        TAP_ERP_XML_STREAMS=(examples / "apparel" / "tap-streams.json").read_text("utf-8"),
        TARGET_AKENEO_MAPPING_FILE=str(examples / "apparel" / "mapping.yml"),
    )
    with SandboxProcess(catalog=examples / "catalog.json") as sandbox:
        project.point_at(sandbox)
        result = project.run("run", "--state-id-suffix", "apparel", "tap-erp-xml", "target-akeneo")
        assert result.returncode == 0, result.stderr[-4000:]
        models = {m["code"]: m for m in sandbox.all_product_models()}
        variant = sandbox.get_product("TEE-100-WHITE-M")
        # The colour-level image went to each colour's sub-model.
        images = {
            code: sandbox.api_get(f"media-files/{m['values']['image'][0]['data']}/download").content
            for code, m in models.items()
            if "image" in m["values"]
        }
    assert images == {
        f"TEE-100_{colour}": (examples / "images" / f"organic-tee-{colour}.png").read_bytes()
        for colour in ("black", "white")
    }
    assert sorted(models) == ["TEE-100", "TEE-100_black", "TEE-100_white"]
    assert models["TEE-100"]["values"]["material"][0]["data"] == "organic cotton"
    assert models["TEE-100_white"]["parent"] == "TEE-100"
    assert variant is not None
    assert variant["parent"] == "TEE-100_white"
    assert variant["values"]["stock"][0]["data"] == 50
    assert "models: created=3" in result.stderr
