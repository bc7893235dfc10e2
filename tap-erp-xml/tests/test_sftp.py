"""SFTP through a local asyncssh server on loopback (password and private-key logins)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tap_erp_xml.errors import SourceError
from tap_erp_xml.testing import product_stream, sync
from tests.sftp_server import SftpServer

USER = "erp"
PASSWORD = "sftp-password-that-must-never-appear"


@pytest.fixture(scope="module")
def sftp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("sftp-root")
    (root / "out").mkdir()
    (root / "out" / "day1.xml").write_bytes(
        b"<Export><Product><SKU>F-1</SKU></Product><Product><SKU>F-2</SKU></Product></Export>"
    )
    with SftpServer(root, USER, PASSWORD) as server:
        yield {"port": server.port, "client_key": server.client_key}


def test_sftp_password_login_reads_a_glob(sftp_server: dict[str, Any]) -> None:
    port = sftp_server["port"]
    config = {
        "files": [f"sftp://127.0.0.1:{port}/out/*.xml"],
        "sftp": {"username": USER, "password": PASSWORD},
        "streams": [product_stream()],
    }
    result = sync(config)
    assert [r["sku"] for r in result.records] == ["F-1", "F-2"]
    assert result.records[0]["_sdc_source_file"] == f"sftp://127.0.0.1:{port}/out/day1.xml"
    second = sync(config, state=result.final_state)
    assert second.records == []
    assert second.counts["products"].files_unchanged == 1
    assert PASSWORD not in repr(result) + repr(second)


def test_sftp_private_key_login(sftp_server: dict[str, Any]) -> None:
    config = {
        "files": [f"sftp://{USER}@127.0.0.1:{sftp_server['port']}/out/day1.xml"],
        "sftp": {"private_key": sftp_server["client_key"]},
        "streams": [product_stream()],
    }
    assert [r["sku"] for r in sync(config).records] == ["F-1", "F-2"]


def test_sftp_wrong_password_is_one_clear_line_without_the_secret(
    sftp_server: dict[str, Any],
) -> None:
    config = {
        "files": [f"sftp://127.0.0.1:{sftp_server['port']}/out/*.xml"],
        "sftp": {"username": USER, "password": "wrong-" + PASSWORD},
        "streams": [product_stream()],
    }
    with pytest.raises(SourceError) as caught:
        sync(config)
    message = str(caught.value)
    assert message.startswith(f'files: "sftp://127.0.0.1:{sftp_server["port"]}/out/*.xml": ')
    assert "Authentication" in message
    assert PASSWORD not in message
    assert "\n" not in message


def test_local_path_is_not_sftp(tmp_path: Path) -> None:
    """A plain path never goes to the network (guards the URL detection)."""
    (tmp_path / "l.xml").write_bytes(b"<Export><Product><SKU>L</SKU></Product></Export>")
    assert [
        r["sku"]
        for r in sync({"files": [str(tmp_path / "l.xml")], "streams": [product_stream()]}).records
    ] == ["L"]
