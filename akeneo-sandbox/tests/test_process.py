"""The real server process over HTTP, through `SandboxProcess`."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import requests

from akeneo_sandbox.testing import SandboxProcess

from .conftest import CATALOG, COLLECTION

pytestmark = pytest.mark.slow


def patch_batch(
    pim: SandboxProcess, lines: list[dict[str, object]], timeout: float = 10
) -> requests.Response:
    return requests.patch(
        f"{pim.base_url}/api/rest/v1/products",
        data="\n".join(json.dumps(line) for line in lines),
        headers={"Authorization": f"Bearer {pim.token()}", "Content-Type": COLLECTION},
        timeout=timeout,
    )


def test_token_batch_stats_and_reset() -> None:
    with SandboxProcess(catalog=CATALOG) as pim:
        assert "listening on http://127.0.0.1:" in pim.stderr_text()
        response = patch_batch(pim, [{"identifier": f"R-{i}"} for i in range(3)])
        assert [json.loads(line)["status_code"] for line in response.text.split("\n")] == [201] * 3
        assert [p["identifier"] for p in pim.all_products()] == ["R-0", "R-1", "R-2"]
        assert pim.get_product("R-1") is not None
        assert pim.get_product("nope") is None
        stats = pim.stats()
        assert stats["products_written"] == 3
        assert stats["products_total"] == 3
        pim.reset()
        assert pim.stats()["products_total"] == 0
        assert pim.all_products() == []


def test_short_token_ttl_expires() -> None:
    with SandboxProcess(catalog=CATALOG, token_ttl=1) as pim:
        headers = {"Authorization": f"Bearer {pim.token()}"}
        assert requests.get(f"{pim.base_url}/api/rest/v1/families", headers=headers, timeout=5).ok
        time.sleep(1.2)
        expired = requests.get(f"{pim.base_url}/api/rest/v1/families", headers=headers, timeout=5)
        assert expired.status_code == 401


def test_dropped_connection_is_a_connection_error() -> None:
    with SandboxProcess(catalog=CATALOG, faults="reset=1") as pim:
        for _ in range(4):
            with pytest.raises(
                (requests.ConnectionError, requests.exceptions.ChunkedEncodingError)
            ):
                requests.get(f"{pim.base_url}/api/rest/v1/families", timeout=5)
        stats = pim.stats()
        assert stats["faults_injected"] == {"reset": 4}
        assert "Traceback" not in pim.stderr_text()


def test_slow_answer_passes_a_short_client_timeout_but_the_write_happens() -> None:
    with SandboxProcess(catalog=CATALOG, faults="slow=1", slow_seconds=1.5) as pim:
        token = pim.token()
        with pytest.raises(requests.Timeout):
            requests.patch(
                f"{pim.base_url}/api/rest/v1/products/SLOW",
                json={"enabled": False},
                headers={"Authorization": f"Bearer {token}"},
                timeout=0.5,
            )
        product = pim.get_product("SLOW")
        assert product is not None
        assert product["enabled"] is False
        assert pim.stats()["faults_injected"]["slow"] >= 3


def test_file_database_survives_kill_and_restart(tmp_path: Path) -> None:
    with SandboxProcess(catalog=CATALOG, db=str(tmp_path / "pim.db")) as pim:
        patch_batch(pim, [{"identifier": "KEEP"}])
        pim.kill()
        pim.start()
        assert pim.get_product("KEEP") is not None
        pim.restart()
        assert [p["identifier"] for p in pim.all_products()] == ["KEEP"]


def test_bad_flag_fails_with_one_line() -> None:
    pim = SandboxProcess(catalog=CATALOG, faults="429=2")
    with pytest.raises(RuntimeError) as error:
        pim.start()
    assert "akeneo-sandbox: error: --faults: 429 needs a probability between 0 and 1" in str(
        error.value
    )
