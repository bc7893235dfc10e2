"""Media: products with one image each, fetched from a loopback HTTP server (issue 15).

The target loads N products whose `image` value is a URL on a small image server in this
process (`ImageServer`: a distinct PNG per product, with an ETag), into an empty sandbox with
its built-in demo catalog (an `image` attribute). Then it runs again on the same input with
the same state store: every image request is conditional, the server answers 304, and the
PIM gets no media request. The image server counts its answers by status; the sandbox's
request log counts the media requests.
"""

from __future__ import annotations

import json
import tempfile
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from measure import BenchError, run_process
from section_target import credentials
from workloads import TARGET, Workloads, label

from target_akeneo.testing import LoopbackServer

PNG_HEADER = b"\x89PNG\r\n\x1a\n"
MAPPING = {
    "products": {
        "identifier": "sku",
        "values": {"name": {"field": "name", "locale": "en_US"}, "image": "image"},
    }
}
SCHEMA = {
    "type": "object",
    "properties": {
        "sku": {"type": "string"},
        "name": {"type": "string"},
        "image": {"type": "string"},
    },
}


def image_bytes(number: int) -> bytes:
    """A small file with a PNG signature, different for every product (about 1 kB)."""
    return PNG_HEADER + number.to_bytes(4, "big") * 256


class ImageServer(LoopbackServer):
    """`GET /img/{n}.png` with an ETag; a matching If-None-Match is answered 304."""

    def __init__(self) -> None:
        self.answers: Counter[int] = Counter()
        lock = threading.Lock()
        answers = self.answers

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, status: int, body: bytes = b"", etag: str = "") -> None:
                with lock:
                    answers[status] += 1
                self.send_response(status)
                if etag:
                    self.send_header("ETag", etag)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                name = self.path.removeprefix("/img/").removesuffix(".png")
                if not name.isdigit():
                    self._answer(404)
                    return
                etag = f'"{name}-1"'
                if self.headers.get("If-None-Match") == etag:
                    self._answer(304, etag=etag)
                else:
                    self._answer(200, image_bytes(int(name)), etag)

        super().__init__(Handler)
        self.base = self.url("/img/")


def _singer(path: Path, size: int, base: str) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write(json.dumps({"type": "SCHEMA", "stream": "products", "schema": SCHEMA,
                              "key_properties": ["sku"]}) + "\n")  # fmt: skip
        for number in range(size):
            record = {"sku": f"IMG-{number:06d}", "name": f"Product {number}",
                      "image": f"{base}{number}.png"}  # fmt: skip
            out.write(json.dumps({"type": "RECORD", "stream": "products", "record": record}))
            out.write("\n")
        out.write(json.dumps({"type": "STATE", "value": {"bookmarks": {}}}) + "\n")


def _media_requests(stats: dict[str, Any]) -> int:
    return sum(int(row["count"]) for row in stats["requests"] if "media-files" in row["route"])


def _run(pim: Any, images: ImageServer, config: Path, singer: Path, log: Path) -> dict[str, Any]:
    media_before = _media_requests(pim.stats())
    answers_before = Counter(images.answers)
    run = run_process([str(TARGET), "--config", str(config)], stdin=singer, log=log)
    answers = images.answers - answers_before
    report = json.loads((config.parent / "run-report.json").read_text(encoding="utf-8"))
    return {
        "seconds": run.wall,
        "peak_mb": run.peak_mb,
        "image_requests": sum(answers.values()),
        "image_200": answers[200],
        "image_304": answers[304],
        "pim_media_requests": _media_requests(pim.stats()) - media_before,
        "uploaded": int(report.get("media_uploaded", 0)),
        "unchanged": int(report.get("media_unchanged", 0)),
        "failed": int(report.get("media_failed", 0)),
    }


def measure(work: Workloads, size: int) -> dict[str, Any]:
    """First load and unchanged re-run of `size` products with one image each."""
    from akeneo_sandbox.testing import SandboxProcess

    logs = work.out / "logs"
    with (
        tempfile.TemporaryDirectory(dir=work.out) as tmp,
        ImageServer() as images,
        SandboxProcess(db=":memory:") as pim,
    ):
        state = Path(tmp)
        singer = state / "media.singer.jsonl"
        _singer(singer, size, images.base)
        config = work.target_config(state, pim.base_url, credentials(pim))
        settings = json.loads(config.read_text(encoding="utf-8"))
        settings.pop("mapping_file")
        settings.update(mapping=MAPPING, media_sources=[images.base])
        config.write_text(json.dumps(settings), encoding="utf-8")
        first = _run(pim, images, config, singer, logs / f"media-{label(size)}-first.log")
        rerun = _run(pim, images, config, singer, logs / f"media-{label(size)}-rerun.log")
        stored = int(pim.api_get("media-files", limit=1, with_count="true").json()["items_count"])
    if first["uploaded"] != size or rerun["unchanged"] != size:
        raise BenchError(
            f"media: {first['uploaded']} of {size} uploaded, {rerun['unchanged']} unchanged on "
            f"the re-run (logs: {logs}/media-*.log)"
        )
    return {"size": size, "first": first, "rerun": rerun, "media_files_in_pim": stored}
