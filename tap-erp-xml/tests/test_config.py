"""Settings come from one JSON schema, are parsed once, and every error names the setting."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tap_erp_xml.errors import ConfigError
from tap_erp_xml.settings import CONFIG_SCHEMA, parse_settings

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
            "streams[0].fields.weight.type: 'numbr' is not one of ['string', 'integer'",
        ),
        (["streams", 0, "name"], "my products", "streams[0].name: 'my products' does not match"),
        (["streams", 0, "key_properties"], ["id"], 'streams[0].key_properties: "id" is not a'),
        (["streams", 0, "replication_key"], "nope", 'streams[0].replication_key: "nope"'),
        (["streams", 0, "fields", "sku"], {"type": "string"}, "fields.sku: 'path' is a required"),
        (["streams", 0, "fields", "sku"], {"path": "a", "colour": 1}, "('colour' was unexpected)"),
        (["streams", 0, "fields", "sku"], {"path": "a", "fields": {}}, "fields.sku.fields: {} "),
        (
            ["on_invalid_value"],
            "ignore",
            "on_invalid_value: 'ignore' is not one of ['fail', 'skip']",
        ),
        (["infer_schema_sample_size"], 0, "infer_schema_sample_size: 0 is less than the minimum"),
        (["sftp"], {"port": 70000}, "sftp.port: 70000 is greater than the maximum of 65535"),
        (["streams"], [], "streams: [] should be non-empty"),
        (["streams", 0, "fields", "weight", "thousands_separator"], ".", "equals the decimal"),
        (["start_date"], "yesterday", "start_date: not an ISO 8601"),
        (["files"], [], "streams[0].files: no files configured"),
    ],
)
def test_errors_name_the_setting(path: list[Any], value: Any, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(_with(path, value))
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (
            ["streams", 0, "fields", "sku"],
            "other:SKU",
            r'fields\.sku\.path: namespace prefix "other"',
        ),
        (["streams", 0, "record_path"], "/a/*", r"record_path: .*must name the record element"),
    ],
)
def test_paths_are_resolved_once_at_start(path: list[Any], value: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_settings(_with(path, value))


def test_defaults_come_from_the_schema() -> None:
    settings = parse_settings(BASE)
    props = CONFIG_SCHEMA["properties"]
    assert settings.on_invalid_value == props["on_invalid_value"]["default"] == "fail"
    assert settings.infer_schema_sample_size == props["infer_schema_sample_size"]["default"]
    assert BASE.get("on_invalid_value") is None  # the caller's config is not changed


def test_parsed_settings_are_frozen_and_typed() -> None:
    settings = parse_settings(_with(["encoding"], "cp1252"))
    stream = settings.streams[0]
    assert stream.encoding == "cp1252"
    assert stream.files == ("x.xml",)
    assert stream.fields is not None
    assert [f.type for f in stream.fields] == ["string", "number", "date-time"]
    assert stream.fields[0].path.steps == ("{urn:x}SKU",)
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

    from tap_erp_xml.testing import run_cli

    config = _with(["streams", 0, "fields", "weight", "type"], "numbr")
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    run = run_cli(["--config", str(path)], cwd=tmp_path)
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    errors = [line for line in run.stderr.splitlines() if "| ERROR" in line]
    assert len(errors) == 1
    assert errors[0].endswith(
        "streams[0].fields.weight.type: 'numbr' is not one of ['string', 'integer', 'number', "
        "'boolean', 'date', 'date-time', 'array', 'object']"
    )


def test_cli_reports_a_schema_error_caught_by_the_sdk_as_one_line(tmp_path: Any) -> None:
    import json

    from tap_erp_xml.testing import run_cli

    path = tmp_path / "config.json"
    path.write_text(json.dumps(_with(["on_malformed_file"], "ignore")))
    run = run_cli(["--config", str(path)], cwd=tmp_path)
    assert run.returncode == 1
    errors = [line for line in run.stderr.splitlines() if "| ERROR" in line]
    assert len(errors) == 1
    assert errors[0].endswith("on_malformed_file: 'ignore' is not one of ['fail', 'skip']")
