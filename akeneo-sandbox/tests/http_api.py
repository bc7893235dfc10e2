"""A catalog with media attributes and association types, and a small HTTP client."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import requests

from akeneo_sandbox.testing import SandboxProcess

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def extended_catalog(base: Path, folder: Path) -> Path:
    """The `base` catalog plus an image and a file attribute and two association types."""
    catalog = json.loads(base.read_text())
    catalog["attributes"] += [
        {
            "code": "image",
            "type": "pim_catalog_image",
            "group": "marketing",
            "allowed_extensions": ["jpg", "png"],
            "max_file_size": "0.01",
        },
        {
            "code": "manual",
            "type": "pim_catalog_file",
            "group": "technical",
            "localizable": True,
            "allowed_extensions": ["pdf"],
        },
    ]
    catalog["association_types"] = [
        {"code": "X_SELL", "labels": {"en_US": "Cross sell"}},
        {"code": "BUNDLE", "labels": {"en_US": "Bundle"}, "is_quantified": True},
    ]
    path = folder / "catalog.json"
    path.write_text(json.dumps(catalog))
    return path


class Api:
    """Authenticated calls to one sandbox process."""

    def __init__(self, pim: SandboxProcess) -> None:
        self.pim = pim
        self.headers = {"Authorization": f"Bearer {pim.token()}"}

    def url(self, path: str) -> str:
        return path if path.startswith("http") else f"{self.pim.base_url}/api/rest/v1/{path}"

    def get(self, path: str, **params: Any) -> requests.Response:
        return requests.get(self.url(path), params=params, headers=self.headers, timeout=10)

    def patch(self, path: str, body: Any) -> requests.Response:
        return requests.patch(self.url(path), json=body, headers=self.headers, timeout=10)

    def post(self, path: str, body: Any) -> requests.Response:
        return requests.post(self.url(path), json=body, headers=self.headers, timeout=10)

    def collection(self, path: str, lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
        response = requests.patch(
            self.url(path),
            data="\n".join(json.dumps(line) for line in lines),
            headers={**self.headers, "Content-Type": "application/vnd.akeneo.collection+json"},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        return [json.loads(line) for line in response.text.split("\n")]

    def upload(
        self, fields: dict[str, Any], file: tuple[str, bytes] | None = None
    ) -> requests.Response:
        """A multipart POST: `fields` as plain parts (JSON-encoded unless strings), `file` as
        a file part with a filename, as Akeneo's PHP client sends them."""
        parts: dict[str, tuple[str | None, str | bytes]] = {
            k: (None, v if isinstance(v, str) else json.dumps(v)) for k, v in fields.items()
        }
        if file is not None:
            parts["file"] = file
        return requests.post(self.url("media-files"), files=parts, headers=self.headers, timeout=10)

    def product(self, identifier: str) -> dict[str, Any]:
        response = self.get(f"products/{identifier}")
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data
