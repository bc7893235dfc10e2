"""SFTP through a local asyncssh server on loopback (password and private-key logins)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncssh
import pytest

from tap_erp_xml.errors import SourceError
from tap_erp_xml.testing import product_stream, sync

USER = "erp"
PASSWORD = "sftp-password-that-must-never-appear"


class _Server(asyncssh.SSHServer):
    def __init__(self, client_key: asyncssh.SSHKey) -> None:
        self._client_key = client_key

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return username == USER and password == PASSWORD

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        return bool(username == USER and key.public_data == self._client_key.public_data)


@pytest.fixture(scope="module")
def sftp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("sftp-root")
    (root / "out").mkdir()
    (root / "out" / "day1.xml").write_bytes(
        b"<Export><Product><SKU>F-1</SKU></Product><Product><SKU>F-2</SKU></Product></Export>"
    )
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    client_key = asyncssh.generate_private_key("ssh-ed25519")
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    state: dict[str, Any] = {}

    async def start() -> None:
        state["server"] = await asyncssh.listen(
            "127.0.0.1",
            0,
            server_host_keys=[host_key],
            server_factory=lambda: _Server(client_key),
            sftp_factory=lambda chan: asyncssh.SFTPServer(chan, chroot=str(root)),
        )
        state["port"] = state["server"].sockets[0].getsockname()[1]
        ready.set()

    thread = threading.Thread(target=lambda: (loop.run_until_complete(start()), loop.run_forever()))
    thread.daemon = True
    thread.start()
    assert ready.wait(30)
    try:
        yield {
            "port": state["port"],
            "client_key": client_key.export_private_key("openssh").decode(),
        }
    finally:

        async def stop() -> None:
            state["server"].close()
            await state["server"].wait_closed()
            current = asyncio.current_task()
            pending = [t for t in asyncio.all_tasks() if t is not current]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


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
