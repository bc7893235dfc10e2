"""Settings: the JSON schema is the one source; parsed once into typed objects; errors name
the setting, in one line each, and never show a secret."""

from __future__ import annotations

import dataclasses
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from target_akeneo.errors import SettingsError
from target_akeneo.settings import CONFIG_SCHEMA, DERIVED_FIELDS, Settings, parse_settings
from target_akeneo.testing import TARGET, singer_lines

BASE: dict[str, Any] = {
    "base_url": "http://127.0.0.1:8081/",
    "client_id": "id",
    "secret": "s",
    "username": "u",
    "password": "p",
    "mapping": {"products": {"identifier": "sku", "values": {}}},
}


def problems(config: dict[str, Any]) -> tuple[str, ...]:
    with pytest.raises(SettingsError) as caught:
        parse_settings(config)
    return caught.value.messages


def test_every_setting_comes_from_the_schema_with_its_default() -> None:
    settings = parse_settings(BASE)
    properties = CONFIG_SCHEMA["properties"]
    for field in dataclasses.fields(Settings):
        if field.name in DERIVED_FIELDS:
            continue
        assert field.name in properties, field.name
        if field.name not in ("base_url", *PAGES):
            default = properties[field.name]["default"]
            assert getattr(settings, field.name) == (
                Path(default) if isinstance(getattr(settings, field.name), Path) else default
            )
    own = set(CONFIG_SCHEMA["properties"]) - {"mapping", "mapping_file"}
    typed = {f.name for f in dataclasses.fields(Settings)}
    typed |= {f.name for f in dataclasses.fields(settings.credentials)}
    assert own <= typed  # every declared setting reaches the typed settings
    assert settings.base_url == "http://127.0.0.1:8081"
    assert settings.cache_path == Path(".target-akeneo/sent-hashes.sqlite")
    assert (settings.mapping_source, settings.credentials.password) == ("mapping", "p")
    assert "p" not in repr(settings.credentials)


PAGES = ("report_page_path", "preview_path")


def test_html_pages_go_beside_the_report_and_payload_file_unless_set() -> None:
    settings = parse_settings({**BASE, "run_report_path": "out/nightly/report.json"})
    assert settings.report_page_path == Path("out/nightly/report.html")
    assert settings.preview_path == Path("output/target-akeneo-dry-run.html")
    chosen = parse_settings({**BASE, "report_page_path": "r.html", "preview_path": "p.html"})
    assert (chosen.report_page_path, chosen.preview_path) == (Path("r.html"), Path("p.html"))


def test_durations_accept_numeric_strings_as_meltano_passes_them() -> None:
    settings = parse_settings(
        {**BASE, "backoff_base": "0.05", "backoff_max": "2", "request_timeout": 1.5}
    )
    assert (settings.backoff_base, settings.backoff_max, settings.request_timeout) == (0.05, 2, 1.5)
    assert isinstance(settings.backoff_max, float)


@pytest.mark.parametrize("bad", ["fast", "-1", -1, True])
def test_bad_duration_names_the_setting(bad: object) -> None:
    assert problems({**BASE, "backoff_base": bad}) == (
        f"setting 'backoff_base' must be a number >= 0, got {bad!r}",
    )


@pytest.mark.parametrize("bad", [0, "0", "0.0"])
def test_request_timeout_must_be_positive(bad: object) -> None:
    assert problems({**BASE, "request_timeout": bad}) == (
        f"setting 'request_timeout' must be a number > 0, got {bad!r}",
    )


def test_ranges_and_choices_come_from_the_schema() -> None:
    assert problems({**BASE, "batch_size": 101}) == (
        "setting 'batch_size' must be from 1 to 100, got 101",
    )
    assert problems({**BASE, "max_concurrency": 0}) == (
        "setting 'max_concurrency' must be from 1 to 4, got 0",
    )
    assert problems({**BASE, "product_endpoint": "sku"}) == (
        "setting 'product_endpoint' must be one of 'identifier', 'uuid', got 'sku'",
    )
    assert problems({**BASE, "skip_unchanged": "yes"}) == (
        "setting 'skip_unchanged' must be of type boolean, got 'yes'",
    )


def test_every_problem_is_reported_one_line_each() -> None:
    config = {**BASE, "batch_size": 0, "base_url": "ftp://pim"}
    del config["username"]
    assert problems(config) == (
        "setting 'username' is required",
        "setting 'base_url' must start with http:// or https://, got 'ftp://pim'",
        "setting 'batch_size' must be from 1 to 100, got 0",
    )


def test_a_secret_is_never_shown() -> None:
    assert problems({**BASE, "password": 12345678}) == (
        "setting 'password' must be of type string",
    )
    assert problems({**BASE, "secret": ""}) == ("setting 'secret' must not be empty",)


def test_null_means_the_default() -> None:
    assert parse_settings({**BASE, "product_endpoint": None}).product_endpoint == "identifier"


def test_checks_across_settings(tmp_path: Path) -> None:
    assert problems({**BASE, "backoff_base": 5, "backoff_max": 2}) == (
        "setting 'backoff_max' must be >= 'backoff_base'",
    )
    assert problems({**BASE, "mapping_file": "m.yml"}) == (
        "settings 'mapping' and 'mapping_file' are exclusive: set only one",
    )
    no_mapping = {key: value for key, value in BASE.items() if key != "mapping"}
    assert problems(no_mapping) == ("one of the settings 'mapping' or 'mapping_file' is required",)
    broken = tmp_path / "mapping.yml"
    broken.write_text("products: [unclosed\n", encoding="utf-8")
    [message] = problems({**no_mapping, "mapping_file": str(broken)})
    assert message.startswith(f"setting 'mapping_file': {broken} line 2 is not valid YAML")


def test_the_cli_reports_a_bad_setting_in_one_error_line(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps({**BASE, "batch_size": 101, "password": 987654321}), encoding="utf-8"
    )
    done = subprocess.run(
        [str(TARGET), "--config", str(config)],
        input=singer_lines([]),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if "ERROR" in line]
    assert [line.split("| ")[-1] for line in errors] == [
        "setting 'batch_size' must be from 1 to 100, got 101",
        "setting 'password' must be of type string",
    ]
    assert "987654321" not in done.stderr
    assert "WARNING" not in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""
