"""Google Merchant feed: the tap's `google-merchant` preset next to the same records made with
`stream_maps` expressions (what a feed needed before the preset's `pattern` fields), and next
to the bare lxml loop, all back to back on the same file in each repetition.

The ceiling: the stream_maps configuration's plain fields alone (prices left as text, no
stream maps). No preset can beat it, since it does all the same work but the price split, so
`plain / stream_maps` is the most any preset could reach against stream_maps on this feed.

Where the time goes: each configuration also runs on a one-item feed (the process start:
interpreter, singer-sdk, settings), and the two field sets' generated functions are timed
in this process on the compared items, so the price split's cost shows apart from the rest.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

from generate_merchant import ITEM_TAG, generate
from lxml import etree
from measure import BenchError, run_process, summarise
from workloads import BENCH, PYTHON, SEED, TAP, Workloads, emitted_records, label

from tap_erp_xml import presets
from tap_erp_xml.fields import compile_fields
from tap_erp_xml.settings import parse_settings

PRESET = "google-merchant"
# The price split by hand, as a user would write it without the preset's pattern field.
SPLIT = "{'amount': float(%s.split()[0]), 'currency': %s.split()[1]} if %s else None"
METADATA = ("_sdc_source_file", "_sdc_source_line", "_sdc_modified_at")
EXTRACT_PASSES = 15


def feed(work: Workloads, size: int) -> Path:
    """The generated feed of `size` items (made once)."""
    path = work.out / f"merchant-{label(size)}-seed{SEED}.xml"
    if not path.exists():
        partial = path.with_suffix(".partial")
        generate(partial, size, SEED)
        partial.rename(path)
    return path


def configs(work: Workloads, size: int) -> tuple[Path, Path, Path]:
    """Tap configs over the feed: the preset; plain fields plus stream_maps; the same plain
    fields without the stream maps (the ceiling)."""
    files = [str(feed(work, size))]
    preset = {"files": files, "streams": [{"name": "merchant", "preset": PRESET}]}
    base = presets.load(PRESET)
    fields = {k: v for k, v in base["fields"].items() if k not in {"price", "sale_price"}}
    fields.update(price_text="g:price", sale_price_text="g:sale_price")
    stream = {k: base[k] for k in ("record_path", "namespaces", "key_properties")}
    maps = {
        "files": files,
        "streams": [{"name": "merchant", **stream, "fields": fields}],
        "stream_maps": {
            "merchant": {
                "price": SPLIT % (("price_text",) * 3),
                "sale_price": SPLIT % (("sale_price_text",) * 3),
                "price_text": None,
                "sale_price_text": None,
            }
        },
    }
    plain = {k: v for k, v in maps.items() if k != "stream_maps"}
    paths = (
        work.out / f"merchant-preset-{label(size)}.json",
        work.out / f"merchant-maps-{label(size)}.json",
        work.out / f"merchant-plain-{label(size)}.json",
    )
    for path, config in zip(paths, (preset, maps, plain), strict=True):
        path.write_text(json.dumps(config, indent=2), encoding="utf-8")
    return paths


def _records(config: Path) -> list[dict[str, Any]]:
    done = subprocess.run([str(TAP), "--config", str(config)], capture_output=True, check=False)
    if done.returncode != 0:
        raise BenchError(f"tap-erp-xml failed on {config}: {done.stderr[-500:]!r}")
    lines = (json.loads(line) for line in done.stdout.splitlines() if b'"RECORD"' in line[:40])
    return [{k: v for k, v in m["record"].items() if k not in METADATA} for m in lines]


def same_records(work: Workloads, size: int) -> int:
    """Both configurations give the same records (compared once, on a small feed)."""
    preset, maps, _ = configs(work, size)
    with_preset, with_maps = _records(preset), _records(maps)
    if with_preset != with_maps or len(with_preset) != size:
        raise BenchError(f"the preset and the stream_maps configs differ on {size} items")
    return size


def extract_us(work: Workloads, size: int) -> dict[str, float]:
    """Microseconds per item of each configuration's generated field function alone (best
    of passes over the items, parsed beforehand, the two alternating so that a busy moment
    of the machine hits both): the preset's fields with their `pattern` price split, and
    the plain fields the stream_maps configuration reads."""
    items = etree.parse(str(feed(work, size))).getroot().findall(f"channel/{ITEM_TAG}")
    extracts = {}
    for name, config in zip(("preset", "maps"), configs(work, size)[:2], strict=True):
        stream = parse_settings(json.loads(config.read_text(encoding="utf-8"))).streams[0]
        extracts[name] = compile_fields(stream.fields or ()).extract
    best = dict.fromkeys(extracts, float("inf"))
    for _ in range(EXTRACT_PASSES):
        for name, extract in extracts.items():
            started = time.perf_counter()
            for item in items:
                extract(item)
            best[name] = min(best[name], time.perf_counter() - started)
    return {f"{name}_extract_us": 1e6 * seconds / len(items) for name, seconds in best.items()}


def _start_walls(work: Workloads, logs: Path, rep: int) -> dict[str, float]:
    """Wall seconds of each configuration on a one-item feed: the cost of starting."""
    walls = {}
    for name, config in zip(("preset", "maps"), configs(work, 1)[:2], strict=True):
        run = run_process([str(TAP), "--config", str(config)], log=logs / f"start-{name}-{rep}.log")
        walls[f"{name}_start_s"] = run.wall
    return walls


def measure_once(work: Workloads, size: int, rep: int) -> dict[str, Any]:
    """One repetition: the bare loop, the preset, stream_maps, then the plain fields, on the
    same file, then the first two configurations on a one-item feed."""
    logs = work.out / "logs"
    logs.mkdir(exist_ok=True)
    preset, maps, plain = configs(work, size)
    bare = run_process(
        [PYTHON, str(BENCH / "baselines.py"), "lxml", str(feed(work, size)), "--tag", ITEM_TAG],
        log=logs / f"merchant-lxml-{label(size)}-{rep}.log",
    )
    runs = {}
    for name, config in (("preset", preset), ("maps", maps), ("plain", plain)):
        run = run_process(
            [str(TAP), "--config", str(config)],
            log=logs / f"merchant-{name}-{label(size)}-{rep}.log",
        )
        if emitted_records(run.stderr) != size:
            raise BenchError(f"tap-erp-xml did not emit {size} records with {config}")
        runs[name] = run
    preset_rps, maps_rps = size / runs["preset"].wall, size / runs["maps"].wall
    plain_rps = size / runs["plain"].wall
    bare_eps = size / bare.wall
    start = _start_walls(work, logs, rep)
    # Per item once the process runs: the wall less this repetition's start wall.
    preset_us = 1e6 * max(runs["preset"].wall - start["preset_start_s"], 0.0) / size
    maps_us = 1e6 * max(runs["maps"].wall - start["maps_start_s"], 0.0) / size
    return {
        "records": size,
        "preset_rps": preset_rps,
        "maps_rps": maps_rps,
        "plain_rps": plain_rps,
        "lxml_eps": bare_eps,
        "preset_peak_mb": runs["preset"].peak_mb,
        "maps_peak_mb": runs["maps"].peak_mb,
        "vs_maps": preset_rps / maps_rps,
        "ceiling_vs_maps": plain_rps / maps_rps,
        "of_ceiling": preset_rps / plain_rps,
        # The same ratios by CPU seconds (one thread each): steadier on a shared machine.
        "vs_maps_cpu": runs["maps"].cpu / runs["preset"].cpu,
        "ceiling_vs_maps_cpu": runs["maps"].cpu / runs["plain"].cpu,
        "vs_lxml": preset_rps / bare_eps,
        **start,
        "preset_us": preset_us,
        "maps_us": maps_us,
        "vs_maps_started": maps_us / preset_us if preset_us else 0.0,
    }


def measure(work: Workloads, size: int, reps: int, check_size: int) -> dict[str, Any]:
    """Median figures of `reps` repetitions at `size` items, after checking the records."""
    checked = same_records(work, check_size)
    row = summarise(size, [measure_once(work, size, rep) for rep in range(reps)])
    row["records_compared"] = checked
    row.update(extract_us(work, check_size))
    return row
