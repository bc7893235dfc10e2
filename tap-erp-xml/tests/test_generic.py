"""Streams without ``fields``: nested objects per record and a schema inferred by sampling."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tap_erp_xml.testing import run_cli, sync
from tests.support import SAMPLES

DOC = """<?xml version="1.0"?>
<x:Export xmlns:x="urn:x">
  <x:Product id="1">
    <x:SKU>A</x:SKU>
    <x:Name lang="en">Alpha</x:Name>
    <x:Tag>t1</x:Tag>
    <x:Empty/>
  </x:Product>
  <x:Product id="2">
    <x:SKU>B</x:SKU>
    <x:Name>Beta</x:Name>
    <x:Tag>t1</x:Tag><x:Tag>t2</x:Tag>
  </x:Product>
</x:Export>
"""


def _config(tmp_path: Path) -> dict[str, Any]:
    (tmp_path / "g.xml").write_text(DOC)
    return {
        "files": [str(tmp_path / "g.xml")],
        "streams": [
            {
                "name": "raw",
                "record_path": "/x:Export/x:Product",
                "namespaces": {"x": "urn:x"},
                "key_properties": ["@id"],
            }
        ],
    }


def test_records_are_nested_objects_shaped_by_the_sampled_schema(tmp_path: Path) -> None:
    result = sync(_config(tmp_path))
    first, second = result.records
    assert first["@id"] == "1"
    assert first["SKU"] == "A"
    assert first["Name"] == {"@lang": "en", "#text": "Alpha"}
    assert first["Tag"] == ["t1"]
    assert first["Empty"] is None
    assert second["Name"] == {"#text": "Beta"}
    assert second["Tag"] == ["t1", "t2"]
    props = result.schemas[0]["schema"]["properties"]
    assert props["Tag"]["type"] == ["array", "null"]
    assert props["Name"]["properties"]["@lang"]["type"] == ["string", "null"]
    assert "_sdc_source_line" in props


def test_discover_infers_the_schema_from_a_sample(tmp_path: Path) -> None:
    config = _config(tmp_path)
    config["infer_schema_sample_size"] = 1
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    run = run_cli(["--config", str(path), "--discover"], cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    catalog = json.loads(run.stdout)
    schema = catalog["streams"][0]["schema"]["properties"]
    # One sampled record: Tag was seen once, so it is not known to repeat yet.
    assert schema["Tag"]["type"] == ["string", "null"]
    assert schema["SKU"]["type"] == ["string", "null"]
    assert catalog["streams"][0]["key_properties"] == ["@id"]


def test_woocommerce_items_without_fields(tmp_path: Path) -> None:
    config = {
        "files": ["woocommerce_wxr_sample_products.xml"],
        "base_dir": str(SAMPLES),
        "streams": [{"name": "items", "record_path": "/rss/channel/item"}],
    }
    records = sync(config).records
    products = [r for r in records if r.get("post_type") == "product"]
    assert len(products) == 18
    assert all(p["title"] for p in products)
    assert any(isinstance(p.get("postmeta"), list) for p in products)
