"""What sdk_compat.py relies on in singer-sdk, and the SDK's own record path around it:
stream maps, flattening and property selection applied to the tap's records."""

from __future__ import annotations

import inspect
import json
import logging
from typing import Any

import pytest
from singer_sdk import Stream

from tap_erp_xml.errors import XmlError
from tap_erp_xml.tap import TapErpXml
from tap_erp_xml.testing import sync


def _parameters(function: Any) -> list[tuple[str, Any]]:
    return [(p.name, p.kind) for p in inspect.signature(function).parameters.values()]


def test_the_sdk_still_has_what_the_overrides_rely_on() -> None:
    """Fails when singer-sdk renames or reshapes a private method the tap overrides."""
    keyword = inspect.Parameter.KEYWORD_ONLY
    positional = inspect.Parameter.POSITIONAL_OR_KEYWORD
    assert _parameters(Stream._generate_record_messages) == [
        ("self", positional),
        ("record", positional),
    ]
    assert _parameters(Stream._increment_stream_state) == [
        ("self", positional),
        ("latest_record", positional),
        ("context", keyword),
    ]
    # ...and still calls them from its record loop, doing there what the tap skips.
    assert "_generate_record_messages(" in inspect.getsource(Stream._write_record_message)
    assert "_increment_stream_state(" in inspect.getsource(Stream._sync_records)
    # full_export: the records' version and the SDK's ACTIVATE_VERSION writer.
    assert _parameters(Stream._write_activate_version_message) == [
        ("self", positional),
        ("full_table_version", positional),
    ]
    assert "self._stream_version" in inspect.getsource(Stream.__init__)
    generate = inspect.getsource(Stream._generate_record_messages)
    assert "pop_deselected_record_properties(" in generate
    assert "self._stream_version" in generate


def test_stream_maps_and_flattening_apply_to_the_records(
    acceptance_config: dict[str, Any],
) -> None:
    fields = acceptance_config["streams"][0]["fields"]
    fields["weight_object"] = {"path": "erp:Weight", "fields": {"value": ".", "unit": "@unit"}}
    acceptance_config["stream_maps"] = {
        "products": {"sku_lower": "sku.lower()", "description": "__NULL__", "prices": "__NULL__"}
    }
    acceptance_config["flattening_enabled"] = True
    acceptance_config["flattening_max_depth"] = 1
    result = sync(acceptance_config)
    record = result.records[0]
    assert record["sku"] == "SKU-100234"
    assert record["sku_lower"] == "sku-100234"
    assert record["weight_object__value"] == "0,82"
    assert record["weight_object__unit"] == "kg"
    assert "weight_object" not in record
    # An object keyed by data (no declared properties) is flattened to its JSON text.
    assert json.loads(record["name"]) == {"en": "Trail runner", "de": "Trailläufer"}
    assert "description" not in record
    assert "prices" not in record
    assert len(result.records) == 4
    schema = result.schemas[0]["schema"]["properties"]
    assert "sku_lower" in schema
    assert schema["weight_object__unit"]["type"] == ["string", "null"]
    assert "description" not in schema


def test_a_deselected_property_is_left_out(acceptance_config: dict[str, Any]) -> None:
    catalog = TapErpXml(config=acceptance_config).catalog_dict
    entry = catalog["streams"][0]
    for item in entry["metadata"]:
        if item["breadcrumb"] == ["properties", "ean"]:
            item["metadata"]["selected"] = False
    result = sync(acceptance_config, catalog=catalog)
    assert len(result.records) == 4
    assert all("ean" not in record for record in result.records)
    assert result.records[0]["sku"] == "SKU-100234"
    assert "ean" not in result.schemas[0]["schema"]["properties"]


def test_only_a_user_error_drops_the_sdks_unhandled_error_line(
    acceptance_config: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    """The CLI prints a user error as its one ERROR line; a bug keeps the SDK's line too."""
    stream = TapErpXml(config=acceptance_config).streams["products"]
    for error in (XmlError("x.xml:1:1: broken"), RuntimeError("a bug")):
        try:
            raise error
        except Exception:
            stream.log("An unhandled error occurred while syncing '%s'", "p", level=logging.ERROR)
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [r.getMessage() for r in errors] == ["An unhandled error occurred while syncing 'p'"]
