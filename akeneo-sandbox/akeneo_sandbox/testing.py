"""`SandboxProcess`: a real `akeneo-sandbox serve` subprocess for tests and benchmarks.

    with SandboxProcess(catalog="tests/data/acceptance/catalog.json") as pim:
        run_the_target(base_url=pim.base_url, client_id=pim.client_id, ...)
        assert pim.get_product("SKU-1")["family"] == "shoes"
        assert pim.stats()["products_written"] == 3

Admin routes are never faulted, so `stats()` and `reset()` work with `faults` on; `token()`
and `api_get()` retry injected faults a few times.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

import requests

from akeneo_sandbox.config import DEFAULT_CREDENTIALS

START_TIMEOUT = 20.0
RETRIES = 8
RETRYABLE = {429, 500, 502, 503, 504}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class SandboxProcess:
    """Starts the sandbox on a free loopback port; stops it (terminate, then kill) on exit."""

    def __init__(
        self,
        *,
        catalog: str | Path | None = None,
        db: str = ":memory:",
        token_ttl: int | None = None,
        faults: str | None = None,
        seed: int = 0,
        slow_seconds: float | None = None,
        latency: str | None = None,
        limits: str | None = None,
        extra_args: Sequence[str] = (),
        port: int | None = None,
    ) -> None:
        self.catalog = None if catalog is None else Path(catalog)
        self.db = db
        self.token_ttl = token_ttl
        self.faults = faults
        self.seed = seed
        self.slow_seconds = slow_seconds
        self.latency = latency
        self.limits = limits
        self.extra_args = tuple(extra_args)
        self.port = port or free_port()
        self.client_id = DEFAULT_CREDENTIALS.client_id
        self.secret = DEFAULT_CREDENTIALS.secret
        self.username = DEFAULT_CREDENTIALS.username
        self.password = DEFAULT_CREDENTIALS.password
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self._session = requests.Session()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        args = [
            sys.executable,
            "-m",
            "akeneo_sandbox",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--db",
            self.db,
            "--seed",
            str(self.seed),
        ]
        if self.catalog is not None:
            args += ["--catalog", str(self.catalog)]
        if self.token_ttl is not None:
            args += ["--token-ttl", str(self.token_ttl)]
        if self.faults:
            args += ["--faults", self.faults]
        if self.slow_seconds is not None:
            args += ["--slow-seconds", str(self.slow_seconds)]
        if self.latency:
            args += ["--latency", self.latency]
        if self.limits:
            args += ["--limits", self.limits]
        return [*args, *self.extra_args]

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> SandboxProcess:
        if self._stderr is None:
            self._stderr = tempfile.TemporaryFile()  # noqa: SIM115
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self._process = subprocess.Popen(
            self.command(), stdout=subprocess.DEVNULL, stderr=self._stderr, env=env
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"akeneo-sandbox exited at start:\n{self.stderr_text()}")
            try:
                if self._session.get(f"{self.base_url}/sandbox/stats", timeout=1).ok:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(
            f"akeneo-sandbox did not answer within {START_TIMEOUT:g} s:\n{self.stderr_text()}"
        )

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def kill(self) -> None:
        """SIGKILL, as in a crash (the database file keeps what was committed)."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGKILL)
            self._process.wait(timeout=5)
        self._process = None

    def restart(self) -> SandboxProcess:
        """Stop if running and start again on the same port and database."""
        self.stop()
        return self.start()

    def stderr_text(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", errors="replace")

    def __enter__(self) -> SandboxProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self._session.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    # --- admin -----------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        response = self._session.get(f"{self.base_url}/sandbox/stats", timeout=10)
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data

    def reset(self) -> None:
        # Clearing a million products takes seconds, more on a busy machine.
        self._session.post(f"{self.base_url}/sandbox/reset", timeout=120).raise_for_status()

    # --- API -------------------------------------------------------------------------------

    def _retrying(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        response: requests.Response | None = None
        for attempt in range(RETRIES):
            try:
                response = self._session.request(method, url, timeout=10, **kwargs)
            except (requests.ConnectionError, requests.Timeout):
                response = None
            if response is not None and response.status_code not in RETRYABLE:
                return response
            time.sleep(0.05 * (attempt + 1))
        if response is None:
            raise requests.ConnectionError(f"{method} {url}: no answer after {RETRIES} tries")
        return response

    def token(self) -> str:
        """A fresh access token from the password grant."""
        response = self._retrying(
            "POST",
            f"{self.base_url}/api/oauth/v1/token",
            json={"grant_type": "password", "username": self.username, "password": self.password},
            auth=(self.client_id, self.secret),
        )
        response.raise_for_status()
        token: str = response.json()["access_token"]
        return token

    def api_get(self, path: str, **params: Any) -> requests.Response:
        """Authenticated GET of `/api/rest/v1/<path>` (or an absolute URL)."""
        url = path if path.startswith("http") else f"{self.base_url}/api/rest/v1/{path.lstrip('/')}"
        headers = {"Authorization": f"Bearer {self.token()}"}
        return self._retrying("GET", url, params=params or None, headers=headers)

    def get_product(self, identifier: str) -> dict[str, Any] | None:
        return self._get_one(f"products/{quote(identifier, safe='')}")

    def get_product_model(self, code: str) -> dict[str, Any] | None:
        """A product model as GET shows it (with its parent's values), or None if absent."""
        return self._get_one(f"product-models/{quote(code, safe='')}")

    def _get_one(self, path: str) -> dict[str, Any] | None:
        response = self.api_get(path)
        if response.status_code == 404:
            return None
        response.raise_for_status()
        item: dict[str, Any] = response.json()
        return item

    def all_products(self) -> list[dict[str, Any]]:
        """Every product with an identifier, following `search_after` links."""
        return self._all("products")

    def all_product_models(self) -> list[dict[str, Any]]:
        """Every product model, by code, following `search_after` links."""
        return self._all("product-models")

    def _all(self, path: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        response = self.api_get(path, pagination_type="search_after", limit=100)
        while True:
            response.raise_for_status()
            page = response.json()
            items.extend(page["_embedded"]["items"])
            next_link = page["_links"].get("next")
            if next_link is None:
                return items
            response = self.api_get(next_link["href"])
