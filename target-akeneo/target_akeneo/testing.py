"""Helpers for this repository's target tests: acceptance data as Singer messages, the
PIM structure of the acceptance catalog, a runner of the `target-akeneo` CLI, and a loopback
HTTP server (media sources for tests and the media benchmark).

Importable from any test (`from target_akeneo.testing import ...`), like
`akeneo_sandbox.testing`; it reads the repository's `tests/data`, so it is left out of the
wheel.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self

import yaml

from target_akeneo.structure import Attribute, PimStructure

REPO = Path(__file__).resolve().parents[2]  # target-akeneo/target_akeneo/testing.py
ACCEPTANCE = REPO / "tests" / "data" / "acceptance"
CATALOG = ACCEPTANCE / "catalog.json"
MAPPING_FILE = ACCEPTANCE / "mapping.yml"
EXPECTED = ACCEPTANCE / "expected.json"

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "sku": {"type": "string"},
        "erp_id": {"type": ["integer", "null"]},
        "status": {"type": ["string", "null"]},
        "ean": {"type": ["string", "null"]},
        "group": {"type": ["string", "null"]},
        "name": {"type": ["object", "null"], "additionalProperties": {"type": "string"}},
        "description": {"type": ["object", "null"], "additionalProperties": {"type": "string"}},
        "weight": {"type": ["number", "null"]},
        "weight_unit": {"type": ["string", "null"]},
        "prices": {
            "type": ["array", "null"],
            "items": {
                "type": "object",
                "properties": {"amount": {"type": "number"}, "currency": {"type": "string"}},
            },
        },
        "color": {"type": ["string", "null"]},
        "categories": {"type": ["array", "null"], "items": {"type": "string"}},
        "waterproof": {"type": ["boolean", "null"]},
        "release_date": {"type": ["string", "null"], "format": "date"},
        "updated_at": {"type": ["string", "null"], "format": "date-time"},
        "_sdc_source_file": {"type": ["string", "null"]},
        "_sdc_source_line": {"type": ["integer", "null"]},
        "_sdc_modified_at": {"type": ["string", "null"], "format": "date-time"},
    },
}

_SDC = {"_sdc_source_file": "erp-products.xml", "_sdc_modified_at": "2026-11-21T23:00:00+00:00"}

ACCEPTANCE_RECORDS: list[dict[str, Any]] = [
    {
        "sku": "SKU-100234", "erp_id": 100234, "status": "active", "ean": "4006381333931",
        "group": "SHOES", "name": {"en": "Trail runner", "de": "Trailläufer"},
        "description": {"en": "Lightweight trail running shoe & more."},
        "weight": 0.82, "weight_unit": "kg",
        "prices": [{"amount": 129.90, "currency": "EUR"}, {"amount": 139.00, "currency": "USD"}],
        "color": "RD", "categories": ["shoes_running", "summer_2026"], "waterproof": True,
        "release_date": "2026-03-01", "updated_at": "2026-11-21T17:04:00+00:00",
        "_sdc_source_line": 4, **_SDC,
    },
    {
        "sku": "SKU-100235", "erp_id": 100235, "status": "inactive", "ean": "4006381333948",
        "group": "TSHIRT", "name": {"en": "Merino tee"},
        "description": {"en": "Soft merino wool T-shirt."}, "weight": 180.0, "weight_unit": "g",
        "prices": [{"amount": 49.00, "currency": "EUR"}], "color": "BL",
        "categories": ["summer_2026"], "waterproof": False, "release_date": "2026-04-15",
        "updated_at": "2026-11-21T18:10:00+00:00", "_sdc_source_line": 19, **_SDC,
    },
    {
        "sku": "SKU-100236", "erp_id": 100236, "status": "active", "ean": None, "group": "CAPS",
        "name": {"en": "Sun cap", "de": "Sonnenkappe"}, "description": None,
        "weight": 95.0, "weight_unit": "g", "prices": [{"amount": 19.90, "currency": "EUR"}],
        "color": "GR", "categories": [], "waterproof": None, "release_date": None,
        "updated_at": "2026-11-21T19:00:00+00:00", "_sdc_source_line": 33, **_SDC,
    },
    {
        "sku": "SKU-100237", "erp_id": 100237, "status": "active", "ean": "4006381333955",
        "group": "SHOES", "name": {"en": "Mystery shoe"}, "weight": 1.10, "weight_unit": "kg",
        "prices": [{"amount": 99.00, "currency": "EUR"}], "color": "PURPLE",
        "categories": ["shoes_running"], "updated_at": "2026-11-21T20:00:00+00:00",
        "_sdc_source_line": 46, **_SDC,
    },
]  # fmt: skip


def singer_lines(
    records: list[dict[str, Any]], stream: str = "products", state: dict[str, Any] | None = None
) -> str:
    """SCHEMA + RECORD lines + one STATE, as a tap would emit them."""
    lines = [{"type": "SCHEMA", "stream": stream, "schema": SCHEMA, "key_properties": ["sku"]}]
    lines += [{"type": "RECORD", "stream": stream, "record": record} for record in records]
    lines.append({"type": "STATE", "value": state or {"bookmarks": {stream: {"done": True}}}})
    return "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)


def acceptance_mapping() -> dict[str, Any]:
    return dict(yaml.safe_load(MAPPING_FILE.read_text(encoding="utf-8")))


def catalog() -> dict[str, Any]:
    return dict(json.loads(CATALOG.read_text(encoding="utf-8")))


def expected() -> dict[str, Any]:
    return dict(json.loads(EXPECTED.read_text(encoding="utf-8")))


def structure_from_catalog(units: dict[str, frozenset[str]] | None = None) -> PimStructure:
    """The PimStructure the target would read from a sandbox seeded with catalog.json."""
    data = catalog()
    pim = PimStructure()
    for item in data["attributes"]:
        attribute = Attribute.from_api(item)
        pim.attributes[attribute.code] = attribute
        if attribute.type in ("pim_catalog_simpleselect", "pim_catalog_multiselect"):
            pim.options[attribute.code] = set()
    pim.identifier_attribute = "sku"
    pim.known_attribute_codes = set(pim.attributes)
    pim.channels = {c["code"]: frozenset(c["locales"]) for c in data["channels"]}
    pim.locales = {loc["code"]: loc["enabled"] for loc in data["locales"]}
    pim.currencies = {cur["code"]: cur["enabled"] for cur in data["currencies"]}
    pim.families = {f["code"] for f in data["families"]}
    for option in data["attribute_options"]:
        pim.options[option["attribute"]].add(option["code"])
    pim.metric_units = units or {"Weight": frozenset({"KILOGRAM", "GRAM", "MILLIGRAM"})}
    return pim


TARGET = Path(sys.executable).parent / "target-akeneo"


@dataclass
class Run:
    """Outcome of one `target-akeneo` subprocess run."""

    returncode: int
    stdout: str
    stderr: str
    config: dict[str, Any]

    @property
    def report(self) -> dict[str, Any]:
        return dict(json.loads(Path(self.config["run_report_path"]).read_text(encoding="utf-8")))

    def dead_letters(self) -> list[dict[str, Any]]:
        """The lines of this run's own dead-letter file (named in its run report)."""
        report = Path(self.config["run_report_path"])
        path = (
            json.loads(report.read_text(encoding="utf-8"))["dead_letter_path"]
            if (report.exists())
            else None
        )
        if path is None:
            return []
        return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]

    def states(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]


def preview_rows(path: Path) -> dict[str, dict[str, Any]]:
    """A change preview page's rows (its JSON data block) by identifier or model code."""
    page = path.read_text(encoding="utf-8")
    marker = '<script type="application/json" id="data">'
    start = page.index(marker) + len(marker)
    rows = json.loads(page[start : page.index("</script>", start)])
    return {row["id"]: row for row in rows}


def dead_letter_files(config: dict[str, Any]) -> list[Path]:
    """Every run's dead-letter file beside the configured `dead_letter_path`, oldest first."""
    base = Path(config["dead_letter_path"])
    return sorted(base.parent.glob(f"{base.stem}-*{base.suffix}"))


def sandbox_config(sandbox: Any, tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "base_url": sandbox.base_url,
        "client_id": sandbox.client_id,
        "secret": sandbox.secret,
        "username": sandbox.username,
        "password": sandbox.password,
        "mapping_file": str(MAPPING_FILE),
        "dead_letter_path": str(tmp_path / "dead-letter.jsonl"),
        "run_report_path": str(tmp_path / "report.json"),
        "cache_path": str(tmp_path / "cache.sqlite"),
        "dry_run_path": str(tmp_path / "dry-run.jsonl"),
        "preview_path": str(tmp_path / "preview.html"),
        "report_page_path": str(tmp_path / "report.html"),
        "backoff_base": 0.01,
        "backoff_max": 0.05,
        "request_timeout": 10,
    }
    config.update(overrides)
    return config


def run_target(config: dict[str, Any], singer_input: str, tmp_path: Path) -> Run:
    config_path = tmp_path / f"config-{len(list(tmp_path.glob('config-*')))}.json"
    config_path.write_text(json.dumps(config), encoding="utf-8")
    done = subprocess.run(
        [str(TARGET), "--config", str(config_path)],
        input=singer_input,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        check=False,
    )
    run = Run(done.returncode, done.stdout, done.stderr, config)
    for secret in (config["secret"], config["password"]):
        assert secret not in done.stdout
        assert secret not in done.stderr
        for path in (Path(config["run_report_path"]), *dead_letter_files(config)):
            if path.exists():
                assert secret not in path.read_text(encoding="utf-8")
    return run


def frequent_drains_command(seconds: float = 1) -> tuple[str, ...]:
    """The target CLI with singer-sdk's full drains (a settle and STATE) every `seconds`, not
    every 5 minutes: for tests that pause their input to get a settle mid-run."""
    code = (
        "from target_akeneo.target import TargetAkeneo as T; "
        "from target_akeneo.sdk_compat import set_full_drain_minutes; "
        f"set_full_drain_minutes(T, {seconds} / 60); T.cli()"
    )
    return (sys.executable, "-c", code)


def start_target(
    config: dict[str, Any], tmp_path: Path, command: tuple[str, ...] = (str(TARGET),)
) -> subprocess.Popen[str]:
    """Start the target CLI with pipes, for tests that feed its input in steps."""
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config), encoding="utf-8")
    return subprocess.Popen(
        [*command, "--config", str(config_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )


class LoopbackServer:
    """An HTTP server on 127.0.0.1 (a free port) answering in threads, while in a `with`."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
