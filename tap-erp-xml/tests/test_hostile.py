"""Hostile and broken input: each fails safely with one line ``file:line:column: reason``."""

from __future__ import annotations

import http.server
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tap_erp_xml.errors import XmlError
from tap_erp_xml.testing import product_stream, run_cli, sync

SECRET = "TOP-SECRET-MARKER-7f3a"
ONE_LINE = re.compile(r"^(?P<file>[^:\n]+):(?P<line>\d+):(?P<column>\d+): (?P<reason>[^\n]+)$")


class _Recorder(http.server.BaseHTTPRequestHandler):
    requests: list[str] = []  # noqa: RUF012 - shared on purpose: the test reads it

    def do_GET(self) -> None:
        type(self).requests.append(self.path)
        body = f'<!ENTITY ext "{SECRET}">'.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def http_server() -> Iterator[tuple[str, list[str]]]:
    """A loopback HTTP server that records every request (there must be none)."""
    _Recorder.requests = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", _Recorder.requests
    finally:
        server.shutdown()
        server.server_close()


def corpus(tmp_path: Path, base_url: str) -> dict[str, tuple[bytes, str]]:
    """name -> (file bytes, pattern expected in the parser's reason)."""
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    laughs = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    body = "<Export><Product><SKU>{}</SKU></Product></Export>"
    return {
        "xxe_file.xml": (
            (
                f'<?xml version="1.0"?>\n<!DOCTYPE Export [<!ENTITY x SYSTEM "file://{secret}">]>\n'
                + body.format("&x;")
            ).encode(),
            "external entity|Entity 'x' not defined",
        ),
        "xxe_url.xml": (
            (
                f'<?xml version="1.0"?>\n<!DOCTYPE Export [<!ENTITY x SYSTEM "{base_url}/x">]>\n'
                + body.format("&x;")
            ).encode(),
            "external entity|Entity 'x' not defined",
        ),
        "xxe_parameter.xml": (
            (
                f'<?xml version="1.0"?>\n<!DOCTYPE Export [<!ENTITY % p SYSTEM "file://{secret}">'
                f"%p;]>\n" + body.format("a")
            ).encode(),
            "external entity",
        ),
        "external_dtd_entity.xml": (
            (
                f'<?xml version="1.0"?>\n<!DOCTYPE Export SYSTEM "{base_url}/e.dtd">\n'
                + body.format("&ext;")
            ).encode(),
            "Entity 'ext' not defined",
        ),
        "billion_laughs.xml": (
            (
                f"<?xml version='1.0'?>\n<!DOCTYPE Export [{laughs}]>\n" + body.format("&lol9;")
            ).encode(),
            "amplification",
        ),
        "quadratic.xml": (
            (
                '<?xml version="1.0"?>\n<!DOCTYPE Export [<!ENTITY a "'
                + "x" * 50_000
                + '">]>\n'
                + body.format("&a;" * 50_000)
            ).encode(),
            "amplification",
        ),
        "deep.xml": (
            ("<Export><Product>" + "<a>" * 5000 + "</a>" * 5000 + "</Product></Export>").encode(),
            "Excessive depth",
        ),
        "huge_text.xml": (
            body.format("x" * (10 * 1024 * 1024 + 10)).encode(),
            "Text node too long",
        ),
        "truncated.xml": (
            b"<Export>\n<Product><SKU>A</SKU></Product>\n<Product><SKU>B",
            "Premature end of data",
        ),
        "mismatched.xml": (
            b"<Export>\n<Product><SKU>A</Name></Product>\n</Export>",
            "tag mismatch",
        ),
        "empty.xml": (b"", "empty document"),
        "not_xml.xml": (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "Start tag expected"),
        "control_char.xml": (body.format("a\x01b").encode(), "invalid Char value 1"),
        "wrong_encoding.xml": (
            ('<?xml version="1.0" encoding="UTF-8"?>\n' + body.format("Trailläufer")).encode(
                "latin-1"
            ),
            "encoding",
        ),
    }


def _config(path: Path) -> dict[str, Any]:
    return {"files": [str(path)], "streams": [product_stream()]}


@pytest.mark.reliability
def test_every_hostile_file_fails_with_one_line_and_reads_nothing(
    tmp_path: Path, http_server: tuple[str, list[str]]
) -> None:
    base_url, requests = http_server
    for name, (content, reason) in corpus(tmp_path, base_url).items():
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(XmlError) as caught:
            sync(_config(path))
        message = str(caught.value)
        match = ONE_LINE.match(message)
        assert match, f"{name}: not one file:line:column line: {message!r}"
        assert match["file"] == str(path)
        assert int(match["line"]) >= 1
        assert re.search(reason, match["reason"]), f"{name}: {message}"
        assert SECRET not in message
    assert requests == [], "the tap fetched something over the network"


@pytest.mark.reliability
def test_external_dtd_without_entities_is_not_fetched(
    tmp_path: Path, http_server: tuple[str, list[str]]
) -> None:
    base_url, requests = http_server
    path = tmp_path / "with_dtd.xml"
    path.write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE Export SYSTEM "{base_url}/export.dtd">\n'
        "<Export><Product><SKU>A-1</SKU><Price>1.5</Price></Product></Export>"
    )
    result = sync(_config(path))
    assert [(r["sku"], r["price"]) for r in result.records] == [("A-1", 1.5)]
    assert requests == []


@pytest.mark.reliability
def test_internal_entities_are_expanded_within_limits(tmp_path: Path) -> None:
    path = tmp_path / "nbsp.xml"
    path.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE Export [<!ENTITY brand "Acme&#160;Tools">]>\n'
        "<Export><Product><SKU>A-1</SKU><Name>&brand; drill</Name></Product></Export>"
    )
    assert sync(_config(path)).records[0]["name"] == "Acme\xa0Tools drill"


@pytest.mark.reliability
def test_cli_prints_one_error_line_without_traceback(
    tmp_path: Path, write_config: Any, http_server: tuple[str, list[str]]
) -> None:
    base_url, requests = http_server
    files = corpus(tmp_path, base_url)
    for name in ("xxe_file.xml", "truncated.xml"):
        (tmp_path / name).write_bytes(files[name][0])
        run = run_cli(["--config", str(write_config(_config(tmp_path / name)))], cwd=tmp_path)
        assert run.returncode == 1
        assert "Traceback" not in run.stderr
        errors = [line for line in run.stderr.splitlines() if f"{tmp_path / name}:" in line]
        assert errors, run.stderr
        assert ONE_LINE.match(errors[-1].split(" | ")[-1].strip()), errors[-1]
        assert [line for line in run.stderr.splitlines() if "| ERROR" in line] == errors[-1:]
        assert SECRET not in run.stdout + run.stderr
    # Records before the truncation were delivered, then the run failed.
    assert [r["sku"] for r in run.messages.records] == ["A"]
    assert requests == []


@pytest.mark.reliability
def test_on_malformed_file_skip_continues_with_next_file(tmp_path: Path) -> None:
    (tmp_path / "a_broken.xml").write_bytes(b"<Export><Product><SKU>A</SKU></Product><Pro")
    (tmp_path / "b_good.xml").write_bytes(b"<Export><Product><SKU>B</SKU></Product></Export>")
    config = {
        "files": [str(tmp_path / "*.xml")],
        "on_malformed_file": "skip",
        "streams": [product_stream()],
    }
    result = sync(config)
    assert [r["sku"] for r in result.records] == ["A", "B"]
    counts = result.counts["products"]
    assert (counts.files_failed, counts.files_read) == (1, 1)
    assert list(result.final_state["bookmarks"]["products"]["files"]) == [
        str(tmp_path / "b_good.xml")
    ]
