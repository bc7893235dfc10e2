"""The Hub files pass the Meltano Hub's own checks, and what its tooling needs besides.

The Hub's JSON schemas and yamllint rules are read from `../shared/meltano/hub-validation/`
beside the checkout (as in CI) or from `HUB_VALIDATION=path`; without them the schema and lint
tests are skipped with that reason, except under `CI=true`, where they must run.
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
    "erp-to-akeneo"
]
HUB_FILES = {
    "tap-erp-xml": ROOT / "hub" / "extractors" / "tap-erp-xml" / f"{PROJECT['variant']}.yml",
    "target-akeneo": ROOT / "hub" / "loaders" / "target-akeneo" / f"{PROJECT['variant']}.yml",
}


def _validation_dir() -> Path:
    given = os.environ.get("HUB_VALIDATION")
    folder = Path(given) if given else ROOT.parent / "shared" / "meltano" / "hub-validation"
    if not (folder / "yamllint.yaml").is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"the Hub's validation files are missing at {folder} (CI must run these)")
        pytest.skip(f"the Hub's validation files are not available (looked in {folder})")
    return folder


def _definition(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(HUB_FILES[name].read_text(encoding="utf-8"))
    return loaded


@pytest.mark.parametrize("name", list(HUB_FILES))
def test_hub_file_is_valid_against_the_hubs_json_schema(name: str) -> None:
    from jsonschema import Draft7Validator
    from referencing import Registry, Resource

    schemas = _validation_dir() / "schemas"
    by_file = {
        path.name: json.loads(path.read_text(encoding="utf-8"))
        for path in schemas.rglob("*.schema.json")
    }

    def retrieve(uri: str) -> Resource[Any]:
        # The Hub's schemas refer to each other by relative file names.
        return Resource.from_contents(by_file[uri.rsplit("/", 1)[-1]])

    plugin_type = HUB_FILES[name].parent.parent.name
    validator = Draft7Validator(
        by_file[f"{plugin_type}.schema.json"], registry=Registry(retrieve=retrieve)
    )
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(_definition(name))
    ]
    assert errors == []


@pytest.mark.parametrize("name", list(HUB_FILES))
def test_hub_file_passes_the_hubs_yamllint_rules(name: str) -> None:
    from yamllint import linter
    from yamllint.config import YamlLintConfig

    config = YamlLintConfig(file=str(_validation_dir() / "yamllint.yaml"))
    text = HUB_FILES[name].read_text(encoding="utf-8")
    problems = [f"{p.line}:{p.column} {p.rule}: {p.message}" for p in linter.run(text, config)]
    assert problems == []


@pytest.mark.parametrize("name", list(HUB_FILES))
def test_hub_file_survives_the_hubs_tooling(name: str) -> None:
    """What hub-utils and the Hub's CI scripts need beyond the schema."""
    definition = _definition(name)
    path = HUB_FILES[name]
    assert path.parent.name == definition["name"] == name
    assert path.stem == definition["variant"]
    # hub-utils tells a tap from a target by the repo URL.
    assert definition["repo"] == f"{PROJECT['url']}/tree/main/{name}"
    assert ("tap-" if name.startswith("tap-") else "target-") in definition["repo"]
    assert definition["log_parser"] == "singer-sdk"
    assert definition["domain_url"].startswith("https://")
    logo = definition["logo_url"]
    assert logo.startswith(f"/assets/logos/{path.parent.parent.name}/")
    assert (ROOT / "hub" / "logos" / path.parent.parent.name / Path(logo).name).is_file()
    settings = definition["settings"]
    names = [s["name"] for s in settings]
    assert names == sorted(names)
    assert [n for n in names if n.startswith("stream_maps.")] == []
    kinds = {s["name"]: s["kind"] for s in settings}
    assert kinds["stream_maps"] == kinds["stream_map_config"] == "object"
    assert kinds["faker_config.locale"] == "array"
    assert [s["name"] for s in settings if "..." in s.get("description", "")] == []


def test_tap_pip_url_installs_the_extras_its_settings_need() -> None:
    definition = _definition("tap-erp-xml")
    names = {s["name"] for s in definition["settings"]}
    assert {"s3.endpoint_url", "sftp.password"} <= names
    assert definition["pip_url"] == "tap-erp-xml[s3,sftp]"
    # `files` may come per stream: only `streams` is required.
    assert definition["settings_group_validation"] == [["streams"]]


@pytest.mark.parametrize("package", ["tap-erp-xml", "target-akeneo", "akeneo-sandbox"])
def test_packages_take_their_urls_and_licence_from_the_project(package: str) -> None:
    meta = tomllib.loads((ROOT / package / "pyproject.toml").read_text(encoding="utf-8"))
    urls = meta["project"]["urls"]
    assert urls["Repository"] == PROJECT["url"]
    assert urls["Documentation"].startswith(f"{PROJECT['url']}/tree/main/{package}")
    assert meta["project"]["license-files"] == ["LICENSE"]
    assert (ROOT / package / "LICENSE").read_bytes() == (ROOT / "LICENSE").read_bytes()
    assert meta["project"]["dynamic"] == ["version"]
