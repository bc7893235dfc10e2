"""A loopback HTTP server that counts every connection, for "no network request" checks.

Hostile XML points its external entities and DTDs here; any connection at all (even one
that never sends a valid request) is counted, so a parser that tries the network is caught.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

# Served for every path: a DTD defining the entity the hostile files use, so a parser
# that did fetch it would resolve the entity and the marker would show up in the output.
DTD_BODY = b'<!ENTITY ext "FETCHED-OVER-NETWORK">\n'


class _Handler(BaseHTTPRequestHandler):
    server: CountingServer

    def do_GET(self) -> None:
        self.server.paths.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "application/xml-dtd")
        self.send_header("Content-Length", str(len(DTD_BODY)))
        self.end_headers()
        self.wfile.write(DTD_BODY)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output quiet."""


class CountingServer(ThreadingHTTPServer):
    """Serves DTD_BODY on 127.0.0.1 (free port) and records connections and paths."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.connections = 0
        self.paths: list[str] = []
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    def verify_request(self, request: Any, client_address: Any) -> bool:
        self.connections += 1
        return True

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> CountingServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=5)
