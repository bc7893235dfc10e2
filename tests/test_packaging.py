"""Both plugins are publishable: Hub definitions in sync with --about, wheels that install."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HUB_REQUIRED = (
    "name", "namespace", "variant", "label", "description", "pip_url", "repo",
    "capabilities", "settings", "keywords", "maintenance_status", "quality",
)  # fmt: skip
PLUGINS = {"tap-erp-xml": "extractors", "target-akeneo": "loaders"}


def test_hub_files_and_meltano_yml_match_the_plugins_about_output() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "plugin_definitions.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(("name", "plugin_type"), PLUGINS.items())
def test_hub_definition_has_every_required_key(name: str, plugin_type: str) -> None:
    definition = yaml.safe_load(
        (ROOT / "hub" / plugin_type / name / "erp-to-akeneo.yml").read_text(encoding="utf-8")
    )
    assert [key for key in HUB_REQUIRED if not definition.get(key)] == []
    assert definition["name"] == name
    assert list(definition) == sorted(definition)  # the Hub's yamllint wants sorted keys
    secrets = {s["name"] for s in definition["settings"] if s.get("sensitive")}
    expected = {"secret", "password", "client_id", "username"} if name == "target-akeneo" else set()
    assert expected <= secrets


@pytest.mark.slow
@pytest.mark.parametrize("name", list(PLUGINS))
def test_wheel_installs_into_a_clean_venv_and_runs_about(name: str, tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--outdir",
            str(tmp_path / "dist"),
            str(ROOT / name),
        ],
        check=True,
        capture_output=True,
    )
    wheel = next((tmp_path / "dist").glob("*.whl"))
    venv = tmp_path / "venv"
    subprocess.run(
        [str(BIN / "uv"), "venv", "-q", "--python", sys.executable, str(venv)], check=True
    )
    subprocess.run(
        [
            str(BIN / "uv"),
            "pip",
            "install",
            "-q",
            "--python",
            str(venv / "bin" / "python"),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    about = subprocess.run(
        [str(venv / "bin" / name), "--about", "--format=json"],
        check=True,
        capture_output=True,
        text=True,
    )
    assert json.loads(about.stdout)["name"] == name
