"""The exports file: typed once, one-line errors naming the setting, each run's environment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from erp_to_akeneo_dagster.config import ConfigError, load_config
from tests.support import ROOT

ORCHESTRATE = ROOT / "orchestrate"


def write(tmp_path: Path, config: dict[str, object]) -> Path:
    path = tmp_path / "exports.yml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def minimal(**changes: object) -> dict[str, object]:
    config: dict[str, object] = {
        "meltano": {"project_dir": str(ROOT)},
        "exports": {"north": {"files": ["erp/north/*.xml"]}},
    }
    config.update(changes)
    return config


def test_each_run_gets_its_files_its_env_and_a_share_of_the_connection(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            minimal(
                pim={"connection_limit": 4, "runs_at_once": 3},
                env={"TARGET_AKENEO_RUN_REPORT_PATH": "output/{export}/report.json"},
                exports={
                    "north": {"files": "erp/north/*.xml"},
                    "south": {
                        "files": ["erp/south/a.xml", "erp/south/b.xml"],
                        "env": {"ERP_COMPANY_CODE": 2000},
                    },
                },
            ),
        )
    )

    assert config.keys == ["north", "south"]
    assert config.pool == "akeneo_pim"
    south = config.run_env("south")
    assert json.loads(south["TAP_ERP_XML_FILES"]) == ["erp/south/a.xml", "erp/south/b.xml"]
    assert south["TARGET_AKENEO_RUN_REPORT_PATH"] == "output/south/report.json"
    assert south["ERP_COMPANY_CODE"] == "2000"
    # Three runs at once on four calls: one each, so that three runs together send at most 3.
    assert south["TARGET_AKENEO_MAX_CONCURRENCY"] == "1"
    north = config.run_env("north")
    assert json.loads(north["TAP_ERP_XML_FILES"]) == ["erp/north/*.xml"]
    assert "ERP_COMPANY_CODE" not in north


def test_the_shipped_files_agree_on_the_pool_limit() -> None:
    config = load_config(ORCHESTRATE / "exports.yml")
    instance = yaml.safe_load((ORCHESTRATE / "dagster.yaml").read_text(encoding="utf-8"))

    assert config.project_dir == ROOT
    assert instance["concurrency"]["pools"]["default_limit"] == config.runs_at_once
    assert config.runs_at_once * config.run_concurrency <= config.connection_limit == 4


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"pim": {"runs_at_once": 5}}, "pim.runs_at_once: 5 runs cannot share 4 concurrent calls"),
        ({"pim": {"connection_limit": 0}}, "pim.connection_limit: needs a whole number"),
        ({"pim": {"limit": 2}}, "pim.limit: unknown setting"),
        ({"exports": {}}, "exports: needs at least one export"),
        ({"exports": {"a b": {"files": "x.xml"}}}, "exports.a b: a key needs letters"),
        ({"exports": {"north": {}}}, "exports.north.files: needs a path"),
        (
            {"exports": {"north": {"files": "x", "env": {"TAP_ERP_XML_FILES": "y"}}}},
            "exports.north.env.TAP_ERP_XML_FILES: is set by the orchestration",
        ),
        ({"env": {"TARGET_AKENEO_MAX_CONCURRENCY": 4}}, "env.TARGET_AKENEO_MAX_CONCURRENCY"),
        ({"meltano": {"project_dir": "/"}}, "meltano.project_dir: / holds no meltano.yml"),
        ({"schedule": "daily"}, "schedule: unknown setting"),
    ],
)
def test_errors_are_one_line_naming_the_setting(
    tmp_path: Path, changes: dict[str, object], message: str
) -> None:
    path = write(tmp_path, minimal(**changes))

    with pytest.raises(ConfigError) as error:
        load_config(path)

    assert str(error.value).startswith(f"{path}: {message}")
    assert "\n" not in str(error.value)


def test_a_missing_file_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ERP_TO_AKENEO_EXPORTS"):
        load_config(tmp_path / "absent.yml")
