"""Media values by URL and path through the target CLI, a sandbox and loopback servers.

The loopback servers are allowed through `media_sources` where a test needs them, and left
out to show the refusal. Refused files carry a marker that must appear nowhere: not in the
PIM's media files, not in the dead-letter file, the report or the target's output.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import fsspec
import pytest

from akeneo_sandbox.testing import SandboxProcess
from target_akeneo.fetch import Fetcher, MediaRefused, SourcePolicy
from target_akeneo.testing import LoopbackServer, Run, run_target, sandbox_config, start_target

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
OTHER_PNG = b"\x89PNG\r\n\x1a\n" + bytes(reversed(range(256))) * 8
MARKER = b"SECRET-MARKER-7f3a"
SECRET_PNG = b"\x89PNG\r\n\x1a\n" + MARKER * 20
SCHEMA = {
    "type": "object",
    "properties": {
        "sku": {"type": "string"},
        "name": {"type": ["object", "null"], "additionalProperties": {"type": "string"}},
        "image": {"type": ["string", "null"]},
    },
}
MAPPING = {
    "products": {
        "identifier": "sku",
        "values": {"name": {"field": "name", "locales": {"en": "en_US"}}, "image": "image"},
    }
}


class ImageServer(LoopbackServer):
    """A loopback HTTP server: named files, ETags with 304, redirects, an endless stream."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.redirects: dict[str, str] = {}
        self.hits: dict[tuple[str, int], int] = {}
        self.hosts: list[str] = []
        # When set: every request waits for it to open (`requested` counts the arrivals).
        self.gate: threading.Event | None = None
        self.requested = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                server.hosts.append(self.headers.get("Host", ""))
                server.requested += 1
                if server.gate is not None:
                    server.gate.wait(60)
                path = self.path
                if path in server.redirects:
                    self._answer(path, 302, location=server.redirects[path])
                elif path == "/endless.png":
                    self._endless()
                elif path in server.files:
                    body = server.files[path]
                    etag = f'"{hash(body) & 0xFFFFFFFF:x}"'
                    if self.headers.get("If-None-Match") == etag:
                        self._answer(path, 304, etag=etag)
                    else:
                        self._answer(path, 200, body, etag=etag)
                else:
                    self._answer(path, 404, b"not found")

            def _answer(
                self,
                path: str,
                status: int,
                body: bytes = b"",
                *,
                etag: str | None = None,
                location: str | None = None,
            ) -> None:
                server.hits[path, status] = server.hits.get((path, status), 0) + 1
                self.send_response(status)
                if etag:
                    self.send_header("ETag", etag)
                if location:
                    self.send_header("Location", location)
                if status != 304:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if status != 304:
                    self.wfile.write(body)

            def _endless(self) -> None:
                # No Content-Length: only a limit enforced while reading stops it (bounded
                # here at 3 MB so the server stops by itself).
                server.hits["/endless.png", 200] = server.hits.get(("/endless.png", 200), 0) + 1
                self.send_response(200)
                self.end_headers()
                try:
                    self.wfile.write(b"\x89PNG\r\n\x1a\n")
                    for _ in range(48):
                        self.wfile.write(MARKER * 4096)
                except OSError:
                    pass
                self.close_connection = True

        super().__init__(Handler)


@pytest.fixture
def images() -> Iterator[ImageServer]:
    with ImageServer() as server:
        yield server


def lines(records: list[dict[str, Any]]) -> str:
    messages: list[dict[str, Any]] = [
        {"type": "SCHEMA", "stream": "products", "schema": SCHEMA, "key_properties": ["sku"]}
    ]
    for record in records:
        shaped = {**record, "name": {"en": record["name"]}} if "name" in record else record
        messages.append({"type": "RECORD", "stream": "products", "record": shaped})
    messages.append({"type": "STATE", "value": {"bookmarks": {"products": {"done": True}}}})
    return "".join(json.dumps(m) + "\n" for m in messages)


def run(pim: SandboxProcess, tmp_path: Path, records: list[dict[str, Any]], **config: Any) -> Run:
    settings = sandbox_config(pim, tmp_path, mapping=MAPPING, **config)
    settings.pop("mapping_file")
    result = run_target(settings, lines(records), tmp_path)
    assert result.returncode == 0, result.stderr
    return result


def image_bytes(pim: SandboxProcess, sku: str) -> bytes | None:
    product = pim.get_product(sku)
    assert product is not None, sku
    entries = product["values"].get("image")
    if not entries:
        return None
    response = pim.api_get(f"media-files/{entries[0]['data']}/download")
    assert response.status_code == 200
    return response.content


def stored_media(pim: SandboxProcess) -> list[bytes]:
    items = pim.api_get("media-files", limit=100).json()["_embedded"]["items"]
    return [pim.api_get(f"media-files/{item['code']}/download").content for item in items]


def media_uploads(pim: SandboxProcess) -> int:
    routes = pim.stats()["requests"]
    return sum(
        r["count"] for r in routes if r["method"] == "POST" and r["route"].endswith("media-files")
    )


def assert_nowhere(result: Run, pim: SandboxProcess, marker: bytes = MARKER) -> None:
    assert all(marker not in content for content in stored_media(pim))
    text = marker.decode()
    assert text not in result.stdout
    assert text not in result.stderr
    for path in (result.config["dead_letter_path"], result.config["run_report_path"]):
        if Path(path).exists():
            assert text not in Path(path).read_text(encoding="utf-8")


def failures(result: Run) -> dict[str, tuple[str, str]]:
    """identifier -> (rule, url) of each media_error dead letter."""
    return {
        entry["identifier"]: (entry["rule"], entry["url"])
        for entry in result.dead_letters()
        if entry["reason"] == "media_error"
    }


def test_image_by_url_lands_and_rerun_neither_uploads_nor_downloads(
    pim: SandboxProcess, images: ImageServer, tmp_path: Path
) -> None:
    images.files["/a/shoe.png"] = PNG
    record = {"sku": "IMG-1", "name": "Shoe", "image": images.url("/a/shoe.png")}
    sources = [images.url("/a/")]
    first = run(pim, tmp_path, [record], media_sources=sources)
    assert image_bytes(pim, "IMG-1") == PNG
    assert first.report["media_uploaded"] == 1
    assert first.report["media_failed"] == 0
    uploads = media_uploads(pim)
    assert uploads == 1

    second = run(pim, tmp_path, [record], media_sources=sources)
    assert second.report["media_unchanged"] == 1
    assert second.report["media_uploaded"] == 0
    assert media_uploads(pim) == uploads  # no upload
    assert images.hits["/a/shoe.png", 200] == 1  # downloaded once; the re-run got a 304
    assert images.hits["/a/shoe.png", 304] == 1

    images.files["/a/shoe.png"] = OTHER_PNG  # the source changes: uploaded again
    third = run(pim, tmp_path, [record], media_sources=sources)
    assert third.report["media_uploaded"] == 1
    assert image_bytes(pim, "IMG-1") == OTHER_PNG


def test_image_by_local_path_and_unchanged_hash(pim: SandboxProcess, tmp_path: Path) -> None:
    folder = tmp_path / "images"
    folder.mkdir()
    (folder / "cap.png").write_bytes(PNG)
    record = {"sku": "IMG-2", "name": "Cap", "image": str(folder / "cap.png")}
    first = run(pim, tmp_path, [record], media_sources=[str(folder)])
    assert first.report["media_uploaded"] == 1
    assert image_bytes(pim, "IMG-2") == PNG
    uploads = media_uploads(pim)
    second = run(pim, tmp_path, [record], media_sources=[str(folder)])
    assert second.report["media_unchanged"] == 1
    assert media_uploads(pim) == uploads


def test_uuid_endpoint_uploads_by_identifier(
    pim: SandboxProcess, images: ImageServer, tmp_path: Path
) -> None:
    images.files["/u.png"] = PNG
    record = {"sku": "IMG-U", "name": "By uuid", "image": images.url("/u.png")}
    result = run(pim, tmp_path, [record], media_sources=[images.url("/")], product_endpoint="uuid")
    assert result.report["media_uploaded"] == 1
    assert image_bytes(pim, "IMG-U") == PNG


def test_http_failures_reported_while_other_data_lands(
    pim: SandboxProcess, images: ImageServer, tmp_path: Path
) -> None:
    images.files["/ok.png"] = PNG
    images.files["/text.png"] = MARKER + b" plain text, not an image"
    images.files["/photo.gif"] = b"GIF89a" + MARKER
    records = [
        {"sku": "OK", "name": "Good", "image": images.url("/ok.png")},
        {"sku": "GONE", "name": "Missing image", "image": images.url("/gone.png")},
        {"sku": "BIG", "name": "Endless image", "image": images.url("/endless.png")},
        {"sku": "GIF", "name": "Gif image", "image": images.url("/photo.gif")},
        {"sku": "TXT", "name": "Text image", "image": images.url("/text.png")},
    ]
    result = run(pim, tmp_path, records, media_sources=[images.url("/")], media_max_mb=1)
    assert failures(result) == {
        "GONE": ("http_status", images.url("/gone.png")),
        "BIG": ("too_large", images.url("/endless.png")),
        "GIF": ("extension", images.url("/photo.gif")),
        "TXT": ("signature", images.url("/text.png")),
    }
    assert result.report["media_failed"] == 4
    assert result.report["media_uploaded"] == 1
    # The one summary line a nightly log keeps says so too.
    summary = next(line for line in result.stderr.splitlines() if "target-akeneo summary:" in line)
    assert " media_uploaded=1 media_failed=4" in summary
    assert image_bytes(pim, "OK") == PNG
    for sku in ("GONE", "BIG", "GIF", "TXT"):
        product = pim.get_product(sku)
        assert product is not None
        assert product["values"]["name"][0]["data"] == next(
            r["name"] for r in records if r["sku"] == sku
        )
        assert "image" not in product["values"]
    assert_nowhere(result, pim)


def test_refused_sources(pim: SandboxProcess, images: ImageServer, tmp_path: Path) -> None:
    allowed = tmp_path / "allowed"
    outside = tmp_path / "outside"
    allowed.mkdir()
    outside.mkdir()
    (outside / "secret.png").write_bytes(SECRET_PNG)
    (allowed / "link.png").symlink_to(outside / "secret.png")
    images.files["/secret.png"] = SECRET_PNG
    images.redirects["/hop.png"] = images.url("/secret.png")  # to 127.0.0.1: not listed
    records = [
        {"sku": "OUT", "image": str(outside / "secret.png")},
        {"sku": "DOTS", "image": f"{allowed}/../outside/secret.png"},
        {"sku": "LINK", "image": str(allowed / "link.png")},
        {"sku": "FILE", "image": f"file://{outside / 'secret.png'}"},
        {"sku": "DATA", "image": "data:image/png;base64,iVBORw0KGgo="},
        {"sku": "LOOP", "image": images.url("/secret.png")},
        {"sku": "HOP", "image": images.url("/hop.png", host="localhost")},
        {"sku": "NAME", "image": f"https://localhost:{images.port}/secret.png"},
    ]
    for record in records:
        record["name"] = f"Name of {record['sku']}"
    sources = [str(allowed), images.url("/hop.png", host="localhost")]
    result = run(pim, tmp_path, records, media_sources=sources)
    rules = {sku: rule for sku, (rule, _url) in failures(result).items()}
    assert rules == {
        "OUT": "path_escape",
        "DOTS": "path_escape",
        "LINK": "path_escape",
        "FILE": "scheme",
        "DATA": "scheme",
        "LOOP": "source",
        "HOP": "source",
        "NAME": "source",
    }
    assert images.hits.get(("/secret.png", 200), 0) == 0
    assert images.hits["/hop.png", 302] == 1
    for record in records:
        product = pim.get_product(record["sku"])
        assert product is not None
        assert product["values"]["name"][0]["data"] == record["name"]
        assert "image" not in product["values"]
    assert stored_media(pim) == []
    assert_nowhere(result, pim)


def test_default_policy_refuses_private_names_and_paths(
    pim: SandboxProcess, images: ImageServer, tmp_path: Path
) -> None:
    """No media_sources: https to public addresses only; `localhost` is loopback."""
    images.files["/secret.png"] = SECRET_PNG
    (tmp_path / "local.png").write_bytes(SECRET_PNG)
    records = [
        {"sku": "N1", "name": "a", "image": f"https://localhost:{images.port}/secret.png"},
        {"sku": "N2", "name": "b", "image": images.url("/secret.png")},
        {"sku": "N3", "name": "c", "image": str(tmp_path / "local.png")},
    ]
    result = run(pim, tmp_path, records)
    rules = {sku: rule for sku, (rule, _url) in failures(result).items()}
    assert rules == {"N1": "private_address", "N2": "source", "N3": "source"}
    assert images.hosts == []  # nothing was even connected to
    assert_nowhere(result, pim)


def test_a_name_resolving_to_a_private_address_is_refused(images: ImageServer) -> None:
    """The resolver is asked once per hop and the connection goes to the address it gave."""
    images.files["/p.png"] = PNG

    def to_loopback(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    public = Fetcher(SourcePolicy.parse([]), resolver=to_loopback)
    with pytest.raises(MediaRefused) as refused:
        public.fetch(f"https://images.example.com:{images.port}/p.png", 10_000)
    assert refused.value.rule == "private_address"
    assert images.hosts == []

    listed = f"http://images.example.com:{images.port}/"
    fetched = Fetcher(SourcePolicy.parse([listed]), resolver=to_loopback).fetch(
        f"{listed}p.png", 10_000
    )
    assert fetched.content == PNG
    assert images.hosts == [f"images.example.com:{images.port}"]


def test_media_sources_setting_errors_name_the_entry(pim: SandboxProcess, tmp_path: Path) -> None:
    settings = sandbox_config(pim, tmp_path, mapping=MAPPING, media_sources=["file:///etc"])
    settings.pop("mapping_file")
    result = run_target(settings, lines([]), tmp_path)
    assert result.returncode == 1
    assert "setting 'media_sources': media source 'file:///etc'" in result.stderr


def test_fsspec_prefix_allows_only_what_it_names() -> None:
    memory = fsspec.filesystem("memory")
    memory.pipe("/imgs/a.png", PNG)
    memory.pipe("/private/b.png", SECRET_PNG)
    fetcher = Fetcher(SourcePolicy.parse(["memory://imgs/"]))
    assert fetcher.fetch("memory://imgs/a.png", 10_000).content == PNG
    for url, rule in (
        ("memory://private/b.png", "source"),
        ("memory://imgs/../private/b.png", "path_escape"),
    ):
        with pytest.raises(MediaRefused) as refused:
            fetcher.fetch(url, 10_000)
        assert refused.value.rule == rule


def test_url_prefixes_match_whole_path_segments() -> None:
    policy = SourcePolicy.parse(["http://img.example.com/products", "cdn.example.com"])
    assert policy.check_url("http://img.example.com/products/a.png")[3]
    assert policy.check_url("https://cdn.example.com/any/b.png")[3]
    for url, rule in (
        ("http://img.example.com/products-private/a.png", "source"),
        ("http://cdn.example.com/b.png", "source"),  # a bare host name allows https only
        ("http://img.example.com/products/%2e%2e/secret.png", "path_escape"),
        ("http://user:pw@img.example.com/products/a.png", "source"),
        ("https://other.example.com/a.png", "source"),  # listed entries replace the default
    ):
        with pytest.raises(MediaRefused) as refused:
            policy.check_url(url)
        assert refused.value.rule == rule, url


def test_redirects_are_followed_a_few_times(images: ImageServer) -> None:
    images.files["/end.png"] = PNG
    for hop in range(1, 6):
        images.redirects[f"/r{hop}"] = images.url(f"/r{hop + 1}" if hop < 5 else "/end.png")
    fetcher = Fetcher(SourcePolicy.parse([images.url("/")]))
    assert fetcher.fetch(images.url("/r3"), 10_000).content == PNG  # 3 redirects
    with pytest.raises(MediaRefused) as refused:
        fetcher.fetch(images.url("/r1"), 10_000)  # 5 redirects
    assert refused.value.rule == "redirects"


MODEL_SCHEMA = {
    "type": "object",
    "properties": {
        "sku": {"type": "string"},
        "style": {"type": "string"},
        "color": {"type": "string"},
        "size": {"type": "string"},
        "image": {"type": ["string", "null"]},
    },
}
MODEL_MAPPING = {
    "products": {
        "identifier": "sku",
        "family": {"value": "clothing"},
        "model": {"code": "style", "family_variant": {"value": "clothing_color_size"}},
        "values": {"color": "color", "size": "size", "image": "image"},
    }
}


def test_model_level_image_is_uploaded_to_the_product_model(
    pim: SandboxProcess, tmp_path: Path
) -> None:
    """`image` is a colour-level attribute of `clothing_color_size`: each row's image goes
    to its sub-model, uploaded with a `product_model` part once the model exists."""
    folder = tmp_path / "images"
    folder.mkdir()
    (folder / "black.png").write_bytes(PNG)
    (folder / "red.png").write_bytes(OTHER_PNG)
    rows = [
        {"sku": f"TEE-{color}-{size}", "style": "TEE", "color": color, "size": size,
         "image": str(folder / f"{color}.png")}
        for color in ("black", "red")
        for size in ("s", "m")
    ]  # fmt: skip
    messages: list[dict[str, Any]] = [
        {"type": "SCHEMA", "stream": "products", "schema": MODEL_SCHEMA, "key_properties": ["sku"]}
    ]
    messages += [{"type": "RECORD", "stream": "products", "record": row} for row in rows]
    messages.append({"type": "STATE", "value": {"bookmarks": {"products": {"done": True}}}})
    text = "".join(json.dumps(m) + "\n" for m in messages)
    settings = sandbox_config(pim, tmp_path, mapping=MODEL_MAPPING, media_sources=[str(folder)])
    settings.pop("mapping_file")

    first = run_target(settings, text, tmp_path)

    assert first.returncode == 0, first.stderr
    assert first.report["media_uploaded"] == 2
    for color, content in (("black", PNG), ("red", OTHER_PNG)):
        model = pim.get_product_model(f"TEE_{color}")
        assert model is not None
        code = model["values"]["image"][0]["data"]
        assert pim.api_get(f"media-files/{code}/download").content == content
    variant = pim.get_product("TEE-red-m")
    assert variant is not None
    assert variant["parent"] == "TEE_red"
    uploads = media_uploads(pim)

    again = run_target(settings, text, tmp_path)

    assert again.returncode == 0, again.stderr
    assert again.report["media_unchanged"] == 2
    assert media_uploads(pim) == uploads


def test_media_values_in_flight_are_bounded(
    pim: SandboxProcess, images: ImageServer, tmp_path: Path
) -> None:
    """While the image server holds every request, the target stops taking products once
    its few media slots are full (2 per `media_concurrency`), instead of queueing every
    product's record; once the images come, all of them land."""
    images.gate = threading.Event()
    records = []
    for number in range(60):
        images.files[f"/b/{number}.png"] = PNG + bytes([number])
        records.append(
            {"sku": f"B-{number:02d}", "name": "Held", "image": images.url(f"/b/{number}.png")}
        )
    settings = sandbox_config(
        pim,
        tmp_path,
        mapping=MAPPING,
        media_sources=[images.url("/b/")],
        media_concurrency=1,
        max_concurrency=1,
        batch_size_rows=5,
        batch_size=5,
    )
    settings.pop("mapping_file")
    target = start_target(settings, tmp_path)
    try:
        assert target.stdin is not None
        target.stdin.write(lines(records))
        target.stdin.close()
        target.stdin = None  # all of the input is written
        deadline = time.monotonic() + 60
        while images.requested == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert images.requested == 1
        time.sleep(2)  # time enough to send every product, were nothing holding it back
        held = len(pim.all_products())
        assert held < len(records)
    finally:
        images.gate.set()
        _out, err = target.communicate(timeout=120)
    assert target.returncode == 0, err
    assert len(pim.all_products()) == len(records)
    assert image_bytes(pim, "B-59") == PNG + bytes([59])
    assert media_uploads(pim) == len(records)
