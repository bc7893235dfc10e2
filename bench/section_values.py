"""Value-level deltas (issue 20): a nightly delta in which 5% of the products had only their
price changed, sent as changed values and as whole products; and the state store's size.

The last run is a full load of the Singer file (the target into a sandbox with a file
database, no latency, filling the state store). Tonight's input is the same file with every
20th product's price changed. The sandbox restarts on the same database with the latency
model on, and the target runs from copies of the same state store, twice per mode in ABBA
order: `send: changed_values` and `send: whole_product`. Bytes and values sent are the run report's
(`bytes_sent`, `values_sent`: every product line sent). The state store size is the file
after the full load through the target, and, for the larger sizes, the same store code
(`ConfirmedPayloads`) fed the states of acceptance-shape payloads in-process, the tap and the
PIM left out (what a product costs in the file does not depend on how it got there).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from measure import BenchError, run_process
from section_pim import LATENCY
from section_target import credentials, request_counts
from workloads import CATALOG, MAPPING, TARGET, Workloads

CHANGED_EVERY = 20  # 5% of the products
SENDS = ("changed_values", "whole_product")
# Each mode twice, in ABBA order, so neither gains from running first after the restart.
ORDER = ("whole_product", "changed_values", "changed_values", "whole_product")


def _mean(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The runs of one mode: counts are equal across them, times are averaged."""
    row = dict(runs[0])
    for key in ("seconds", "cpu_seconds", "sending_seconds", "latency_seconds"):
        row[key] = sum(run[key] for run in runs) / len(runs)
    row["runs"] = len(runs)
    return row


def _priced(singer: Path, out: Path) -> int:
    """The Singer file with every CHANGED_EVERY-th product's prices raised by 1."""
    changed = seen = 0
    with singer.open(encoding="utf-8") as lines, out.open("w", encoding="utf-8") as sink:
        for line in lines:
            message = json.loads(line)
            if message.get("type") == "RECORD":
                seen += 1
                record = message["record"]
                if seen % CHANGED_EVERY == 0 and record.get("prices"):
                    for price in record["prices"]:
                        price["amount"] = round(float(price["amount"]) + 1, 2)
                    changed += 1
                    line = json.dumps(message) + "\n"
            sink.write(line)
    return changed


def _configure(path: Path, **settings: Any) -> Path:
    config = json.loads(path.read_text(encoding="utf-8"))
    config.update(settings)
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def _nightly(work: Workloads, state: Path, pim: Any, tonight: Path, send: str) -> dict[str, Any]:
    """Tonight's input against the latency-model sandbox, from a copy of last night's store."""
    config = _configure(
        work.target_config(state, pim.base_url, credentials(pim)), send=send, max_concurrency=4
    )
    before = pim.stats()
    run = run_process(
        [str(TARGET), "--config", str(config)], stdin=tonight, log=state / f"nightly-{send}.log"
    )
    after = pim.stats()
    report = json.loads((state / "run-report.json").read_text(encoding="utf-8"))
    sent = report["created"] + report["updated"]
    product_before, _ = request_counts(before)
    product_after, _ = request_counts(after)
    delayed = after["latency_added"]["seconds"] - before["latency_added"]["seconds"]
    return {
        "send": send,
        "seconds": run.wall,
        "cpu_seconds": run.cpu,
        "sending_seconds": report["concurrency"]["product_sending_seconds"],
        "products_sent": sent,
        "unchanged": report["unchanged"],
        "values_sent": report["values_sent"],
        "bytes_sent": report["bytes_sent"],
        "values_per_product": report["values_sent"] / max(sent, 1),
        "bytes_per_product": report["bytes_sent"] / max(sent, 1),
        "product_requests": product_after - product_before,
        "latency_seconds": round(delayed, 3),
    }


def store_size(size: int, folder: Path) -> dict[str, Any]:
    """Bytes per product of a state store holding `size` acceptance-shape products."""
    from target_akeneo.cache import ConfirmedPayloads, SentHashCache
    from target_akeneo.deltas import delta
    from target_akeneo.mapping import compile_mapping, parse_mapping
    from target_akeneo.settings import load_mapping_file
    from target_akeneo.testing import ACCEPTANCE_RECORDS, structure_from_catalog

    streams = parse_mapping(load_mapping_file(MAPPING), str(MAPPING))
    mapping = compile_mapping(streams["products"], structure_from_catalog())
    path = folder / f"store-{size}.sqlite"
    store = ConfirmedPayloads(SentHashCache(path, "http://pim", "identifier"), skip_unchanged=True)
    empty = path.stat().st_size
    started = time.perf_counter()
    good = ACCEPTANCE_RECORDS[:3]
    for number in range(size):
        record = dict(good[number % 3], sku=f"BENCH-{number + 1:07d}")
        record["prices"] = [{"amount": 10 + number % 9000 / 100, "currency": "EUR"}]
        identifier, payload = mapping.build(record)
        store.confirm("products", identifier, delta(payload, None, whole=False).state)
    store.close()
    grown = path.stat().st_size - empty
    return {
        "size": size,
        "bytes": grown,
        "bytes_per_product": grown / size,
        "seconds": time.perf_counter() - started,
        "how": "store code in-process",
    }


def measure(work: Workloads, size: int, store_sizes: tuple[int, ...]) -> dict[str, Any]:
    from akeneo_sandbox.testing import SandboxProcess

    singer, records = work.singer(size)
    with tempfile.TemporaryDirectory(dir=work.out) as tmp:
        folder = Path(tmp)
        tonight = folder / "tonight.singer"
        changed = _priced(singer, tonight)
        db = str(folder / "pim.sqlite")
        full = folder / "full"
        full.mkdir()
        with SandboxProcess(catalog=CATALOG, db=db) as pim:
            config = work.target_config(full, pim.base_url, credentials(pim))
            load = run_process(
                [str(TARGET), "--config", str(config)], stdin=singer, log=full / "full.log"
            )
            port = pim.port
        report = json.loads((full / "run-report.json").read_text(encoding="utf-8"))
        if report["created"] != records:
            raise BenchError(f"full load created {report['created']} of {records} products")
        through_target = (full / "cache.sqlite").stat().st_size
        found: dict[str, list[dict[str, Any]]] = {send: [] for send in SENDS}
        with SandboxProcess(catalog=CATALOG, db=db, port=port, latency=LATENCY) as pim:
            for number, send in enumerate(ORDER):
                state = folder / f"{send}-{number}"
                state.mkdir()
                shutil.copy(full / "cache.sqlite", state / "cache.sqlite")
                found[send].append(_nightly(work, state, pim, tonight, send))
        runs = [_mean(found[send]) for send in SENDS]
        stores = [store_size(n, folder) for n in store_sizes]
    target_row = {
        "size": records,
        "bytes": through_target,
        "bytes_per_product": through_target / records,
        "how": "through the target",
    }
    delta_run, whole_run = runs
    return {
        "size": records,
        "changed": changed,
        "full_load_seconds": load.wall,
        "latency": LATENCY,
        "nightly": runs,
        "bytes_ratio": delta_run["bytes_sent"] / max(whole_run["bytes_sent"], 1),
        "values_ratio": delta_run["values_sent"] / max(whole_run["values_sent"], 1),
        "stores": [target_row, *stores],
    }
