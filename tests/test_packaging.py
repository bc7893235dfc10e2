"""Both plugins are publishable: Hub definitions in sync with --about, wheels that install."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
import yaml

from akeneo_sandbox.testing import SandboxProcess
from tests.sftp_server import SftpServer
from tests.support import ACCEPTANCE, meltano_succeeds

ROOT = Path(__file__).resolve().parent.parent
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


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Both packages built, checked and smoke-installed by the release command."""
    dist = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "release.sh"), str(dist)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for name in PLUGINS:
        assert f"release: {name} 0.1.0 installs from its wheel and answers --about" in result.stdout
    return dist


@pytest.mark.slow
@pytest.mark.parametrize("name", list(PLUGINS))
def test_wheel_and_sdist_carry_the_licence_and_metadata_upload_tools_accept(
    name: str, released: Path
) -> None:
    module = name.replace("-", "_")
    with zipfile.ZipFile(next(released.glob(f"{module}-*.whl"))) as wheel:
        files = wheel.namelist()
        metadata = wheel.read(next(f for f in files if f.endswith(".dist-info/METADATA")))
    assert any(f.endswith(".dist-info/licenses/LICENSE") for f in files)
    with tarfile.open(next(released.glob(f"{module}-*.tar.gz"))) as sdist:
        members = sdist.getnames()
    assert f"{module}-0.1.0/LICENSE" in members
    # Metadata 2.5 is refused by twine < 6.1 and by many mirrors; 2.4 is widely accepted.
    assert metadata.splitlines()[0] == b"Metadata-Version: 2.4"
    assert b"Project-URL: Repository, " in metadata
    if name == "tap-erp-xml":  # the presets are package data
        presets = ROOT / "tap-erp-xml" / "tap_erp_xml" / "presets"
        for preset in presets.glob("*.json"):
            assert f"tap_erp_xml/presets/{preset.name}" in files


def _hub_file_installing_from(wheel: Path, name: str, dest: Path) -> Path:
    """The Hub definition as published, with `pip_url` pointing at the fresh wheel."""
    definition = yaml.safe_load(
        (ROOT / "hub" / PLUGINS[name] / name / "erp-to-akeneo.yml").read_text(encoding="utf-8")
    )
    extras = definition["pip_url"][len(name) :]
    definition["pip_url"] = f"{wheel}{extras}"  # Meltano splits pip_url on spaces
    path = dest / f"{name}.yml"
    path.write_text(yaml.safe_dump(definition), encoding="utf-8")
    return path


@pytest.mark.slow
@pytest.mark.e2e
def test_new_meltano_user_adds_both_plugins_from_their_definitions(
    released: Path, tmp_path: Path
) -> None:
    """`meltano init`, `meltano add --from-ref`, `config set`, `run`: products land in a PIM."""
    meltano_succeeds("init", "--no-usage-stats", "shop", cwd=tmp_path)
    project = tmp_path / "shop"
    for name, plugin_type in PLUGINS.items():
        wheel = next(released.glob(f"{name.replace('-', '_')}-*.whl"))
        ref = _hub_file_installing_from(wheel, name, tmp_path)
        meltano_succeeds("add", plugin_type, name, "--from-ref", str(ref), cwd=project)
    (project / "erp").mkdir()
    shutil.copy(ACCEPTANCE / "erp-products.xml", project / "erp" / "erp-products.xml")
    shutil.copy(ACCEPTANCE / "mapping.yml", project / "mapping.yml")
    tap_config = json.loads((ACCEPTANCE / "tap-config.json").read_text(encoding="utf-8"))

    with SandboxProcess(catalog=ACCEPTANCE / "catalog.json") as pim:
        settings = {
            "tap-erp-xml": {
                "files": json.dumps(["erp/*.xml"]),
                "streams": json.dumps(tap_config["streams"]),
                # A stream map as JSON, the way a user types it: every colour becomes BL.
                "stream_maps": json.dumps({"products": {"color": "'BL'"}}),
            },
            "target-akeneo": {
                "base_url": pim.base_url,
                "client_id": pim.client_id,
                "secret": pim.secret,
                "username": pim.username,
                "password": pim.password,
                "mapping_file": "mapping.yml",
                # Every product is mapped from status `inactive`: disabled in the PIM.
                "stream_maps": json.dumps({"products": {"status": "'inactive'"}}),
            },
        }
        for name, values in settings.items():
            for setting, value in values.items():
                meltano_succeeds("config", "set", name, setting, value, cwd=project)
        meltano_succeeds("run", "tap-erp-xml", "target-akeneo", cwd=project)
        expected = json.loads((ACCEPTANCE / "expected.json").read_text(encoding="utf-8"))
        skus = [*(k for k in expected if not k.startswith("_")), *expected["_rejected"]]
        products = {sku: pim.get_product(sku) for sku in skus}

    # Secrets went to .env, never into meltano.yml.
    meltano_yml = (project / "meltano.yml").read_text(encoding="utf-8")
    assert pim.secret not in meltano_yml
    assert "TARGET_AKENEO_SECRET" in (project / ".env").read_text(encoding="utf-8")
    # The stream map took effect: every colour is BL, mapped to `blue` (even SKU-100237's,
    # whose own colour has no option in the PIM and would be rejected).
    colours = {sku: p and p["values"]["color"][0]["data"] for sku, p in products.items()}
    assert colours == dict.fromkeys(skus, "blue")
    assert {sku: p and p["enabled"] for sku, p in products.items()} == dict.fromkeys(skus, False)


@pytest.mark.slow
@pytest.mark.e2e
def test_s3_and_sftp_settings_work_from_the_wheel_meltano_installed(
    released: Path, tmp_path: Path
) -> None:
    """The extras in the Hub's `pip_url` make the advertised `s3.*` and `sftp.*` settings work."""
    import boto3
    from moto.server import ThreadedMotoServer

    def meltano(*args: str) -> subprocess.CompletedProcess[str]:
        return meltano_succeeds(*args, cwd=tmp_path / "shop")

    def skus(result: subprocess.CompletedProcess[str]) -> list[str]:
        lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
        return [m["record"]["sku"] for m in lines if m["type"] == "RECORD"]

    (tmp_path / "shop").mkdir()
    meltano("init", "--no-usage-stats", ".")
    wheel = next(released.glob("tap_erp_xml-*.whl"))
    ref = _hub_file_installing_from(wheel, "tap-erp-xml", tmp_path)
    meltano("add", "extractors", "tap-erp-xml", "--from-ref", str(ref))
    tap_config = json.loads((ACCEPTANCE / "tap-config.json").read_text(encoding="utf-8"))
    meltano("config", "set", "tap-erp-xml", "streams", json.dumps(tap_config["streams"]))
    every_sku = ["SKU-100234", "SKU-100235", "SKU-100236", "SKU-100237"]

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        s3 = boto3.client(
            "s3", endpoint_url=endpoint, aws_access_key_id="AKIAWHEELTEST0000000",
            aws_secret_access_key="wheel-test-secret", region_name="us-east-1",
        )  # fmt: skip
        s3.create_bucket(Bucket="erp")
        s3.upload_file(str(ACCEPTANCE / "erp-products.xml"), "erp", "out/products.xml")
        for setting, value in {
            "files": json.dumps(["s3://erp/out/*.xml"]),
            "s3.endpoint_url": endpoint,
            "s3.region": "us-east-1",
            "s3.aws_access_key_id": "AKIAWHEELTEST0000000",
            "s3.aws_secret_access_key": "wheel-test-secret",
        }.items():
            meltano("config", "set", "tap-erp-xml", setting, value)
        from_s3 = meltano("invoke", "tap-erp-xml")
    finally:
        server.stop()
    assert skus(from_s3) == every_sku
    assert "wheel-test-secret" not in from_s3.stdout + from_s3.stderr

    root = tmp_path / "sftp-root"
    (root / "out").mkdir(parents=True)
    shutil.copy(ACCEPTANCE / "erp-products.xml", root / "out" / "products.xml")
    with SftpServer(root, "erp", "sftp-wheel-secret") as sftp:
        for setting, value in {
            "files": json.dumps([f"sftp://127.0.0.1:{sftp.port}/out/*.xml"]),
            "sftp.username": "erp",
            "sftp.password": "sftp-wheel-secret",
        }.items():
            meltano("config", "set", "tap-erp-xml", setting, value)
        from_sftp = meltano("invoke", "tap-erp-xml")
    assert skus(from_sftp) == every_sku
    assert "sftp-wheel-secret" not in from_sftp.stdout + from_sftp.stderr
