"""Product models from flat rows: 100k variant rows (10k root models, 30k sub-models) into a
sandbox, beside the same rows sent as simple products; then again unchanged.

    .venv/bin/python bench/section_variants.py [--rows 100000 [--rows 300000 ...]]
        [--before REF] [--results bench/RESULTS.md]

Writes its own block of RESULTS.md (between the markers below), leaving the rest as the full
run wrote it; figures also in bench/out/results-variants.json. The first size runs all of
it: the model load, its unchanged re-run (also profiled with pyinstrument, by phase), the
same rows as simple products and their unchanged re-run; with `--before REF`, also the model
load and re-run of the target package at git REF (exported to a temporary directory, put
first on PYTHONPATH), in the same session, for ratios. Further sizes (issue 21: peak memory
by size) only the model load and its unchanged re-run. Rows: each style has 3 colours (a
sub-model each) and 10 sizes in all (4, 3, 3), so rows / 10 root models and rows * 3 / 10
sub-models.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from measure import run_process
from pyinstrument.session import Session
from workloads import BENCH, PYTHON, ROOT, TARGET

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
SIMPLE_MAPPING = {"identifier": "sku", "family": {"value": "clothing"}, "values": VALUES}
MODEL_MAPPING = {**SIMPLE_MAPPING, "model": MODEL}


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


# Where an unchanged re-run's main-thread time goes: the first matching frame on each path of
# pyinstrument's call tree takes its subtree (file suffix, function, label).
PHASES = (
    ("target_akeneo/models.py", "collect", "holding rows (ModelStage.collect)"),
    ("target_akeneo/upsert.py", "settle", "settle (set aside, plan, compare, send)"),
    ("target_akeneo/sinks.py", "process_record", "mapping records (sinks.process_record)"),
)
OTHER = "reading Singer lines, singer-sdk, start-up"


def run_target(
    sandbox: SandboxProcess,
    work: Path,
    singer: Path,
    mapping: dict[str, Any],
    name: str,
    *,
    package: Path | None = None,
    profile: Path | None = None,
) -> dict[str, Any]:
    """One run of the target; `package`: a directory put first on PYTHONPATH (another
    version of target_akeneo); `profile`: the run under pyinstrument, its session there."""
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
    env = None
    if package is not None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(package), *_pythonpath()])}
    command = [str(TARGET), "--config", str(path)]
    if profile is not None:
        command = [PYTHON, "-m", "pyinstrument", "-r", "pyisession", "-o", str(profile), *command]
    run = run_process(command, stdin=singer, log=work / f"{name}.log", env=env)
    after = sandbox.stats()
    report = json.loads((work / f"{name}-report.json").read_text(encoding="utf-8"))
    return {
        "seconds": round(run.wall, 2),
        "cpu_seconds": round(run.cpu, 2),
        "peak_mb": round(run.peak_mb, 1),
        "write_requests": writes(after) - writes(before),
        "products_written": after["products_written"] - before["products_written"],
        "models_written": after["product_models_written"] - before["product_models_written"],
        "values_dropped": after["values_dropped"] - before["values_dropped"],
        "rejected": report["rejected"],
        "models": report.get("models"),
    }


def _pythonpath() -> list[str]:
    return [part for part in os.environ.get("PYTHONPATH", "").split(os.pathsep) if part]


def export_package(ref: str, into: Path) -> Path:
    """The target package as it is at git `ref`, in `into` (for PYTHONPATH)."""
    into.mkdir(parents=True, exist_ok=True)
    archive = into / "package.tar"
    subprocess.run(
        ["git", "-C", str(ROOT), "archive", "-o", str(archive), ref, "target-akeneo/target_akeneo"],
        check=True,
    )
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return into / "target-akeneo"


def phases(session_file: Path) -> dict[str, float]:
    """Seconds of the main thread per `PHASES` entry, the rest as `OTHER`."""
    root = Session.load(str(session_file)).root_frame()
    found = {label: 0.0 for _suffix, _function, label in PHASES}
    total = root.time if root is not None else 0.0
    stack = [root] if root is not None else []
    while stack:
        frame = stack.pop()
        label = next(
            (
                label
                for suffix, function, label in PHASES
                if frame.function == function and (frame.file_path or "").endswith(suffix)
            ),
            None,
        )
        if label is None:
            stack.extend(frame.children)
        else:
            found[label] += frame.time
    found[OTHER] = total - sum(found.values())
    return {label: round(seconds, 2) for label, seconds in found.items()}


def _load_and_rerun(
    rows: int, work: Path, singer: Path, package: Path | None, profile: bool
) -> tuple[dict[str, Any], dict[str, Any], dict[str, float] | None, tuple[int, int]]:
    """Into a fresh sandbox: the model load, its unchanged re-run (then, with `profile`,
    once more under pyinstrument); the models the PIM then holds (roots, sub-models)."""
    name = "before" if package is not None else "variants"
    with SandboxProcess(catalog=CATALOG) as sandbox:
        load = run_target(sandbox, work, singer, MODEL_MAPPING, name, package=package)
        rerun = run_target(sandbox, work, singer, MODEL_MAPPING, name, package=package)
        split = None
        if profile:
            session = work / f"{name}-rerun.pyisession"
            run_target(sandbox, work, singer, MODEL_MAPPING, name, profile=session)
            split = phases(session)
        roots = sub_models = 0
        for model in sandbox.all_product_models():
            if model["parent"] is None:
                roots += 1
            else:
                sub_models += 1
    return load, rerun, split, (roots, sub_models)


def measure(rows: int, *, simple_too: bool = True, before: str | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        singer = work / "variants.singer"
        singer_file(singer, rows)
        earlier = None
        if before is not None:
            package = export_package(before, work / "before")
            load, rerun, _split, _models = _load_and_rerun(rows, work, singer, package, False)
            commit = subprocess.run(
                ["git", "-C", str(ROOT), "rev-parse", "--short", before],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            earlier = {"ref": before, "commit": commit, "variants": load, "rerun": rerun}
            earlier["load_average"] = [round(load, 1) for load in os.getloadavg()]
        variants, rerun, split, (roots, sub_models) = _load_and_rerun(
            rows, work, singer, None, simple_too
        )
        simple = simple_rerun = None
        if simple_too:
            with SandboxProcess(catalog=CATALOG) as sandbox:
                simple = run_target(sandbox, work, singer, SIMPLE_MAPPING, "simple")
                simple_rerun = run_target(sandbox, work, singer, SIMPLE_MAPPING, "simple")
    total_writes = variants["products_written"] + variants["models_written"]
    return {
        "rows": rows,
        "root_models": roots,
        "sub_models": sub_models,
        "variants": variants,
        "rerun": rerun,
        "rerun_phases": split,
        "simple": simple,
        "simple_rerun": simple_rerun,
        "before": earlier,
        "requests_per_100_writes": round(100 * variants["write_requests"] / total_writes, 3),
        "load_average": [round(load, 1) for load in os.getloadavg()],
    }


def render(results: list[dict[str, Any]]) -> str:
    result = results[0]
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
        "| run | wall s | CPU s | peak MB | write requests | products written | models written"
        " | values dropped | rejected |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    runs = (
        ("as models and variants", variants),
        ("same, unchanged re-run", rerun),
        ("as simple products", simple),
        ("simple products, unchanged re-run", result.get("simple_rerun")),
    )
    for name, row in runs:
        if row is None:
            continue
        lines.append(
            f"| {name} | {row['seconds']} | {row.get('cpu_seconds', '')} | {row['peak_mb']} |"
            f" {row['write_requests']} | {row['products_written']} | {row['models_written']} |"
            f" {row['values_dropped']} | {row['rejected']} |"
        )
    verdict = "PASS" if per_100 <= 1.05 else "MISS"
    lines += [
        "",
        f"Requests per 100 writes: {per_100} (target <= 1.05: {verdict}); unchanged re-run:"
        f" {rerun['write_requests']} write requests (target 0:"
        f" {'PASS' if rerun['write_requests'] == 0 else 'MISS'}).",
    ]
    if result.get("before"):
        lines += _before_after(result)
    if result.get("rerun_phases"):
        lines += _phases(result)
    if len(results) > 1:
        lines += _by_size(results)
    if result.get("note"):
        lines += ["", result["note"]]
    lines.append(END)
    return "\n".join(lines) + "\n"


def _before_after(result: dict[str, Any]) -> list[str]:
    """The model load and its re-run with the target at `--before` REF and now, run one
    after the other in this session: ratios, as the shared machine's load moves both."""
    before = result["before"]
    lines = [
        "",
        "Before and after, the same rows in this session: the target package at"
        f" `{before['ref']}` ({before.get('commit', '?')}, through PYTHONPATH) first, load"
        " average then"
        f" {before['load_average']}, then this code. Ratio: now / before.",
        "",
        "| run | before wall s | now wall s | wall ratio | before CPU s | now CPU s | CPU ratio |"
        " before peak MB | now peak MB | write requests before / now |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, key in (("model load", "variants"), ("unchanged re-run", "rerun")):
        old, new = before[key], result[key]
        lines.append(
            f"| {name} | {old['seconds']} | {new['seconds']} |"
            f" {new['seconds'] / old['seconds']:.2f} | {old['cpu_seconds']} |"
            f" {new['cpu_seconds']} | {new['cpu_seconds'] / old['cpu_seconds']:.2f} |"
            f" {old['peak_mb']} | {new['peak_mb']} |"
            f" {old['write_requests']} / {new['write_requests']} |"
        )
    return lines


def _phases(result: dict[str, Any]) -> list[str]:
    """Where the unchanged re-run's time goes: the models' own cost as the difference of two
    unprofiled runs (the same rows as simple products, re-run unchanged), then the shares of
    a pyinstrument profile."""
    split = result["rerun_phases"]
    total = sum(split.values()) or 1.0
    shown = "; ".join(
        f"{label} {seconds} s ({100 * seconds / total:.0f}%)" for label, seconds in split.items()
    )
    lines = [""]
    models, simple = result["rerun"], result.get("simple_rerun")
    if simple is not None:
        own = models["cpu_seconds"] - simple["cpu_seconds"]
        lines.append(
            f"Where the unchanged re-run's time goes. Its CPU, {models['cpu_seconds']} s, against"
            f" {simple['cpu_seconds']} s for the same rows as simple products re-run unchanged"
            f" (reading, validating and mapping the records, comparing them with the state"
            f" store): the model path's own cost is {own:.2f} s"
            f" ({100 * own / models['cpu_seconds']:.0f}%)."
        )
    lines += [
        f"A profile (one more re-run under pyinstrument, main thread, {total:.1f} s: its hook"
        f" runs on every call, so call-heavy code reads slower than it runs): {shown}.",
        "",
        "Each row's variant payload, and the payloads its root and sub-model would have from"
        " that row alone, are compared with the state store's whole-payload hashes as the row"
        " is held (target_akeneo/unchanged_rows.py); at settle, a model whose every row"
        " matched (and no two share axis values, and the run has not seen it before) is moved"
        " aside in the spill's SQLite database and only counted: not read back, planned or"
        " compared again. Settle is left with moving the rows aside; holding the rows is now"
        " the model path's cost: shaping each row (its model codes from the mapping, values"
        " split by level), building and hashing its three payloads, pickling it into SQLite.",
    ]
    return lines


def _by_size(results: list[dict[str, Any]]) -> list[str]:
    """Issue 21: the model path's peak memory by number of rows, first load and re-run."""
    smallest = results[0]["variants"]["peak_mb"]
    lines = [
        "",
        "Peak memory (ru_maxrss of `target-akeneo`) by number of rows, each size into a fresh"
        " sandbox and state store, then again unchanged:",
        "",
        "| rows | models | first load peak MB | re-run peak MB | first / first at"
        f" {results[0]['rows']:,} | first load wall s | write requests | requests / 100"
        " writes | rejected |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        first, again = result["variants"], result["rerun"]
        lines.append(
            f"| {result['rows']:,} | {result['root_models'] + result['sub_models']:,} |"
            f" {first['peak_mb']} | {again['peak_mb']} | {first['peak_mb'] / smallest:.2f} |"
            f" {first['seconds']} | {first['write_requests']} |"
            f" {result['requests_per_100_writes']} | {first['rejected']} |"
        )
    return lines


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
    """This section's own command line: sizes are repeatable (memory by size, issue 21)."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, action="append", help="repeatable; 100000")
    parser.add_argument("--before", help="git ref of the target to compare with (first size)")
    parser.add_argument("--results", type=Path, default=BENCH / "RESULTS.md")
    parser.add_argument("--from-json", type=Path, help="only re-render results-variants.json")
    args = parser.parse_args()
    if args.from_json:
        results = json.loads(args.from_json.read_text(encoding="utf-8"))
        write_block(args.results, render(results))
        return 0
    out = BENCH / "out"
    out.mkdir(exist_ok=True)
    results = []
    for i, rows in enumerate(args.rows or [100_000]):
        results.append(measure(rows, simple_too=i == 0, before=args.before if i == 0 else None))
        # Written after each size, so that a long series keeps what it has measured.
        (out / "results-variants.json").write_text(json.dumps(results, indent=2), "utf-8")
        write_block(args.results, render(results))
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
