"""Helpers for testing a tap configuration: an in-process sync and a CLI run, their messages.

Used by the tap's own tests; importable by any project that tests its stream definitions.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tap_erp_xml.streams import ErpXmlStream
from tap_erp_xml.tap import TapErpXml


@dataclass
class SyncResult:
    """Messages of one sync, split by type, plus the stream's end-of-sync counts."""

    records: list[dict[str, Any]] = field(default_factory=list)
    states: list[dict[str, Any]] = field(default_factory=list)
    schemas: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, Any] = field(default_factory=dict)
    #: Every message as written, in order (versions, ACTIVATE_VERSION and what precedes it).
    messages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def final_state(self) -> dict[str, Any]:
        """The last STATE value, or ``{}``."""
        return self.states[-1] if self.states else {}


def parse_messages(text: str) -> SyncResult:
    """Split Singer lines into records, states and schemas."""
    result = SyncResult()
    for line in text.splitlines():
        if not line.strip():
            continue
        message = json.loads(line)
        result.messages.append(message)
        if message["type"] == "RECORD":
            result.records.append(message["record"])
        elif message["type"] == "STATE":
            result.states.append(message["value"])
        elif message["type"] == "SCHEMA":
            result.schemas.append(message)
    return result


@contextlib.contextmanager
def captured_stdout() -> Iterator[io.BytesIO]:
    """Collect what is written to ``sys.stdout`` (text or its byte buffer)."""
    raw = io.BytesIO()
    wrapper = io.TextIOWrapper(raw, encoding="utf-8")
    previous = sys.stdout
    sys.stdout = wrapper
    try:
        yield raw
    finally:
        wrapper.flush()
        wrapper.detach()
        sys.stdout = previous


def sync(
    config: dict[str, Any],
    state: dict[str, Any] | None = None,
    catalog: dict[str, Any] | None = None,
) -> SyncResult:
    """Run a full sync in-process and return what the tap wrote on stdout."""
    state = copy.deepcopy(state) if state is not None else None
    tap = TapErpXml(config=config, state=state, catalog=catalog, validate_config=True)
    with captured_stdout() as raw:
        tap.sync_all()
    result = parse_messages(raw.getvalue().decode("utf-8"))
    for name, stream in tap.streams.items():
        if isinstance(stream, ErpXmlStream):
            result.counts[name] = stream.last_counts
    return result


@dataclass
class CliRun:
    """Exit code and outputs of one CLI run."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def messages(self) -> SyncResult:
        """The Singer messages on stdout."""
        return parse_messages(self.stdout)


def run_cli(args: list[str], cwd: Path) -> CliRun:
    """Run the tap as users do (its console entry point) in a subprocess."""
    done = subprocess.run(
        [sys.executable, "-m", "tap_erp_xml.tap", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return CliRun(done.returncode, done.stdout, done.stderr)


def product_stream(**overrides: Any) -> dict[str, Any]:
    """A small stream definition over <Products><Product> without namespaces."""
    stream: dict[str, Any] = {
        "name": "products",
        "record_path": "/Export/Product",
        "key_properties": ["sku"],
        "fields": {
            "sku": "SKU",
            "name": "Name",
            "price": {"path": "Price", "type": "number"},
        },
    }
    stream.update(overrides)
    return stream
