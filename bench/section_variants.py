"""Product models from flat rows: 100k variant rows (10k root models, 30k sub-models) into a
sandbox, beside the same rows sent as simple products; then again unchanged.

    .venv/bin/python bench/section_variants.py [--rows 100000] [--results bench/RESULTS.md]

Writes its own block of RESULTS.md (between the markers below), leaving the rest as the full
run wrote it. Rows: each style has 3 colours (a sub-model each) and 10 sizes in all (4, 3, 3),
so rows / 10 root models and rows * 3 / 10 sub-models.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from measure import run_process
from workloads import BENCH, ROOT, TARGET

from akeneo_sandbox.testing import SandboxProcess

CATALOG = ROOT / "tests" / "data" / "variants" / "catalog.json"
WRITE_ROUTES = ("/api/rest/v1/products", "/api/rest/v1/product-models")
BEGIN, END = "<!-- section_variants: begin -->", "<!-- section_variants: end -->"
COLOURS = (("black", ("s", "m", "l", "xl")), ("white", ("s", "m", "l")), ("red", ("m", "l", "xl")))
SCHEMA = {
    "type": "object",
    "properties": {
        key: {"type": ["string", "null"]}
        for key in ("sku", "style", "name", "material", "color", "size")
    }
    | {"qty": {"type": ["integer", "null"]}},
}
VALUES = {
    "name": {"field": "name", "locale": "en_US"},
    "material": "material",
    "color": "color",
    "size": "size",
    "quantity": "qty",
}
MODEL = {
    "code": "style",
    "family_variant": {"value": "clothing_color_size"},
    "sub_model_code": {"template": "{style}_{color}"},
}


def singer_file(path: Path, rows: int) -> int:
    """The Singer input: one flat row per SKU, styles in order (as ERPs export them)."""
    written = 0
    with path.open("w", encoding="utf-8") as out:
        schema = {"type": "SCHEMA", "stream": "products", "schema": SCHEMA}
        out.write(json.dumps(schema | {"key_properties": ["sku"]}) + "\n")
        style = 0
        while written < rows:
            for colour, sizes in COLOURS:
                for size in sizes:
                    if written == rows:
                        break
                    record = {
                        "sku": f"S{style:06d}-{colour}-{size}",
                        "style": f"S{style:06d}",
                        "name": f"Style {style}",
                        "material": "cotton" if style % 2 else "wool",
                        "color": colour,
                        "size": size,
                        "qty": written % 50,
                    }
                    message = {"type": "RECORD", "stream": "products", "record": record}
                    out.write(json.dumps(message) + "\n")
                    written += 1
            style += 1
        state = {"type": "STATE", "value": {"bookmarks": {"products": {"done": True}}}}
        out.write(json.dumps(state) + "\n")
    return written


def writes(stats: dict[str, Any]) -> int:
    return sum(
        int(row["count"])
        for row in stats["requests"]
        if row["method"] in ("PATCH", "POST") and str(row["route"]).startswith(WRITE_ROUTES)
    )


def run_target(
    sandbox: SandboxProcess, work: Path, singer: Path, mapping: dict[str, Any], name: str
) -> dict[str, Any]:
    config = {
        "base_url": sandbox.base_url,
        "client_id": sandbox.client_id,
        "secret": sandbox.secret,
        "username": sandbox.username,
        "password": sandbox.password,
        "mapping": {"products": mapping},
        "cache_path": str(work / f"{name}-cache.sqlite"),
        "dead_letter_path": str(work / f"{name}-dead-letter.jsonl"),
        "run_report_path": str(work / f"{name}-report.json"),
        "skip_unchanged": True,
    }
    path = work / f"{name}.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    before = sandbox.stats()
    run = run_process([str(TARGET), "--config", str(path)], stdin=singer, log=work / f"{name}.log")
    after = sandbox.stats()
    report = json.loads((work / f"{name}-report.json").read_text(encoding="utf-8"))
    return {
        "seconds": round(run.wall, 2),
        "peak_mb": round(run.peak_mb, 1),
        "write_requests": writes(after) - writes(before),
        "products_written": after["products_written"] - before["products_written"],
        "models_written": after["product_models_written"] - before["product_models_written"],
        "values_dropped": after["values_dropped"] - before["values_dropped"],
        "rejected": report["rejected"],
        "models": report.get("models"),
    }


def measure(rows: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, SandboxProcess(catalog=CATALOG) as sandbox:
        work = Path(tmp)
        singer = work / "variants.singer"
        singer_file(singer, rows)
        model_mapping = {
            "identifier": "sku",
            "family": {"value": "clothing"},
            "model": MODEL,
            "values": VALUES,
        }
        variants = run_target(sandbox, work, singer, model_mapping, "variants")
        rerun = run_target(sandbox, work, singer, model_mapping, "variants")
        roots = sub_models = 0
        for model in sandbox.all_product_models():
            if model["parent"] is None:
                roots += 1
            else:
                sub_models += 1
        sandbox.reset()
        simple_mapping = {"identifier": "sku", "family": {"value": "clothing"}, "values": VALUES}
        simple = run_target(sandbox, work, singer, simple_mapping, "simple")
    total_writes = variants["products_written"] + variants["models_written"]
    return {
        "rows": rows,
        "root_models": roots,
        "sub_models": sub_models,
        "variants": variants,
        "rerun": rerun,
        "simple": simple,
        "requests_per_100_writes": round(100 * variants["write_requests"] / total_writes, 3),
        "load_average": [round(load, 1) for load in os.getloadavg()],
    }


def render(result: dict[str, Any]) -> str:
    variants, rerun, simple = result["variants"], result["rerun"], result["simple"]
    per_100 = result["requests_per_100_writes"]
    lines = [
        BEGIN,
        "## Product models from flat rows",
        "",
        f"`bench/section_variants.py --rows {result['rows']}` (one run, written by the script):"
        f" {result['rows']} flat variant rows become {result['root_models']} root models,"
        f" {result['sub_models']} sub-models and their variant products"
        " (family variant `clothing_color_size`, tests/data/variants/catalog.json), beside the"
        " same rows sent as simple products. Write requests are PATCH/POST on /products and"
        " /product-models counted by the sandbox; writes are products plus models written."
        f" Load average (1/5/15 min) at the end: {result['load_average']} (2 cores shared, so"
        " wall times are noisy; the requests are not).",
        "",
        "| run | wall s | peak MB | write requests | products written | models written |"
        " values dropped | rejected |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, row in (("as models and variants", variants), ("same, unchanged re-run", rerun),
                      ("as simple products", simple)):  # fmt: skip
        lines.append(
            f"| {name} | {row['seconds']} | {row['peak_mb']} | {row['write_requests']} |"
            f" {row['products_written']} | {row['models_written']} | {row['values_dropped']} |"
            f" {row['rejected']} |"
        )
    verdict = "PASS" if per_100 <= 1.05 else "MISS"
    lines += [
        "",
        f"Requests per 100 writes: {per_100} (target <= 1.05: {verdict}); unchanged re-run:"
        f" {rerun['write_requests']} write requests (target 0:"
        f" {'PASS' if rerun['write_requests'] == 0 else 'MISS'}).",
        END,
    ]
    return "\n".join(lines) + "\n"


def keep_block(path: Path, text: str, markers: tuple[str, str] = (BEGIN, END)) -> str:
    """`text` (a RESULTS.md the full run rendered) with a section's block from `path` (this
    section's, or that of another section writing its own block between `markers`)."""
    begin, end = markers
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    if begin not in old or end not in old or begin in text:
        return text
    block = begin + old.split(begin, 1)[1].split(end, 1)[0] + end + "\n"
    return text.rstrip("\n") + "\n\n" + block


def write_block(path: Path, block: str, markers: tuple[str, str] = (BEGIN, END)) -> None:
    begin, end = markers
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + block + rest.split(end, 1)[1].lstrip("\n")
    else:
        text = text.rstrip("\n") + "\n\n" + block
    path.write_text(text, encoding="utf-8")


def section_main(
    doc: str,
    size_flag: str,
    default: int,
    measure: Callable[[int], dict[str, Any]],
    render: Callable[[dict[str, Any]], str],
    markers: tuple[str, str] = (BEGIN, END),
) -> int:
    """The command line of a section writing its own block: its size flag and --results."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument(size_flag, type=int, default=default)
    parser.add_argument("--results", type=Path, default=BENCH / "RESULTS.md")
    args = parser.parse_args()
    result = measure(getattr(args, size_flag.lstrip("-")))
    print(json.dumps(result, indent=2))
    write_block(args.results, render(result), markers)
    return 0


def main() -> int:
    return section_main(__doc__ or "", "--rows", 100_000, measure, render)


if __name__ == "__main__":
    raise SystemExit(main())
