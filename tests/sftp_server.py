"""A real SFTP server on loopback (asyncssh, in a thread) for tests of the `sftp://` source."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

import asyncssh


class _Server(asyncssh.SSHServer):
    def __init__(self, user: str, password: str, client_key: asyncssh.SSHKey) -> None:
        self._user, self._password, self._client_key = user, password, client_key

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return username == self._user and password == self._password

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        return bool(username == self._user and key.public_data == self._client_key.public_data)


class SftpServer:
    """Serves `root` (chrooted) to `user` with `password` or the generated `client_key`."""

    def __init__(self, root: Path, user: str, password: str) -> None:
        self.root, self.user, self.password = root, user, password
        self._host_key = asyncssh.generate_private_key("ssh-ed25519")
        self._client_key = asyncssh.generate_private_key("ssh-ed25519")
        self.client_key = self._client_key.export_private_key("openssh").decode()
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: Any = None

    async def _start(self) -> None:
        self._server = await asyncssh.listen(
            "127.0.0.1",
            0,
            server_host_keys=[self._host_key],
            server_factory=lambda: _Server(self.user, self.password, self._client_key),
            sftp_factory=lambda chan: asyncssh.SFTPServer(chan, chroot=str(self.root)),
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        self._server.close()
        await self._server.wait_closed()
        current = asyncio.current_task()
        pending = [t for t in asyncio.all_tasks() if t is not current]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    def __enter__(self) -> SftpServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(30)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
