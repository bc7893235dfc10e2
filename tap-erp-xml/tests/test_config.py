"""Configuration is parsed once; every error names the setting it is about."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tap_erp_xml.config import parse_settings
from tap_erp_xml.errors import ConfigError
from tap_erp_xml.fields import FieldCompiler
from tap_erp_xml.paths import parse_record_path

BASE: dict[str, Any] = {
    "files": ["x.xml"],
    "streams": [
        {
            "name": "products",
            "record_path": "/erp:Export/erp:Product",
            "namespaces": {"erp": "urn:x"},
            "key_properties": ["sku"],
            "replication_key": "updated_at",
            "fields": {
                "sku": "erp:SKU",
                "weight": {"path": "erp:Weight", "type": "number"},
                "updated_at": {"path": "erp:UpdatedAt", "type": "date-time"},
            },
        }
    ],
}


def _with(path: list[Any], value: Any) -> dict[str, Any]:
    config = copy.deepcopy(BASE)
    node = config
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return config


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (
            ["streams", 0, "fields", "weight", "type"],
            "numbr",
            'streams[0].fields.weight.type: unknown type "numbr"',
        ),
        (["streams", 0, "name"], "my products", 'streams[0].name: "my products" is not a valid'),
        (["streams", 0, "key_properties"], ["id"], 'streams[0].key_properties: "id" is not a'),
        (["streams", 0, "replication_key"], "nope", 'streams[0].replication_key: "nope"'),
        (["streams", 0, "fields", "sku"], {"type": "string"}, "streams[0].fields.sku.path"),
        (["streams", 0, "fields", "sku"], {"path": "a", "colour": 1}, "fields.sku.colour: unknown"),
        (["on_invalid_value"], "ignore", "on_invalid_value: expected one of fail, skip"),
        (["start_date"], "yesterday", "start_date: not an ISO 8601"),
        (["files"], [], "streams[0].files: no files configured"),
    ],
)
def test_errors_name_the_setting(path: list[Any], value: Any, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(_with(path, value))
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_paths_with_undeclared_prefixes_name_the_setting() -> None:
    settings = parse_settings(_with(["streams", 0, "fields", "sku"], "other:SKU"))
    stream = settings.streams[0]
    assert stream.fields is not None
    with pytest.raises(
        ConfigError, match=r'streams\[0\]\.fields\.sku\.path: namespace prefix "other"'
    ):
        FieldCompiler(stream.namespaces).record(stream.fields)
    with pytest.raises(ConfigError, match=r"record_path: .*must name the record element"):
        parse_record_path("/a/*", {}, "streams[0].record_path")


def test_parsed_settings_are_frozen_and_typed() -> None:
    settings = parse_settings(_with(["encoding"], "cp1252"))
    stream = settings.streams[0]
    assert stream.encoding == "cp1252"
    assert stream.files == ("x.xml",)
    assert stream.fields is not None
    assert [f.type for f in stream.fields] == ["string", "number", "date-time"]
    with pytest.raises(AttributeError):
        stream.name = "other"  # type: ignore[misc]


def test_every_setting_is_documented_and_secrets_are_marked() -> None:
    from tap_erp_xml.tap import TapErpXml

    def walk(schema: dict[str, Any], prefix: str) -> list[tuple[str, dict[str, Any]]]:
        found = []
        for name, prop in schema.get("properties", {}).items():
            found.append((prefix + name, prop))
            found += walk(prop, f"{prefix}{name}.")
            found += walk(prop.get("items", {}), f"{prefix}{name}[].")
        return found

    settings = dict(walk(TapErpXml.config_jsonschema, ""))
    missing = [name for name, prop in settings.items() if not prop.get("description")]
    assert missing == []
    secret = {name for name, prop in settings.items() if prop.get("secret")}
    assert secret == {
        "s3.aws_access_key_id",
        "s3.aws_secret_access_key",
        "s3.aws_session_token",
        "sftp.password",
        "sftp.private_key",
        "sftp.private_key_passphrase",
    }
    assert "streams[].fields" in settings


def test_cli_reports_a_config_error_as_one_line(tmp_path: Any) -> None:
    import json

    from tap_helpers import run_cli

    config = _with(["streams", 0, "fields", "weight", "type"], "numbr")
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    run = run_cli(["--config", str(path)], cwd=tmp_path)
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    errors = [line for line in run.stderr.splitlines() if "| ERROR" in line]
    assert len(errors) == 1
    assert errors[0].endswith(
        'streams[0].fields.weight.type: unknown type "numbr" (expected one of string, integer, '
        "number, boolean, date, date-time, array, object)"
    )
