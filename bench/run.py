"""Run the benchmarks and write RESULTS.md.

    bash bench/run.sh                 # full sizes, 3 repetitions, writes bench/RESULTS.md
    bash bench/run.sh --smoke         # tiny sizes, 1 repetition (CI); writes to a temp dir
    bash bench/run.sh --only tap      # one section: tap, target, e2e, scaling, sandbox

Progress goes to stderr; stdout gets one JSON object with the medians and the checks.
Benchmarks are not tests: a missed target is reported (and profiled), and the exit code is 0;
it is 1 only when a measurement could not be made.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import profiles
import report
import run_load
import section_e2e
import section_media
import section_merchant
import section_pages
import section_sandbox
import section_tap
import section_target
import section_values
import section_variants
from measure import BenchError
from section_target import Sandbox
from workloads import BENCH, CATALOG, ROOT, Workloads, label

SECTIONS = ("tap", "target", "e2e", "scaling", "sandbox", "merchant", "values", "media")
LARGE = 1_000_000


@dataclass(frozen=True)
class Plan:
    """Sizes and repetitions of one benchmark run."""

    smoke: bool
    reps: int
    reps_large: int
    tap_sizes: tuple[int, ...]
    target_sizes: tuple[int, ...]
    e2e_size: int
    scaling_tap: tuple[int, ...]
    scaling_target: tuple[int, ...]
    sandbox_starts: int
    sandbox_patches: int
    profile_size: int
    merchant_size: int = 50_000
    merchant_check: int = 2_000
    values_size: int = 100_000
    values_store_sizes: tuple[int, ...] = (100_000, 1_000_000)
    media_size: int = 10_000

    def reps_for(self, size: int) -> int:
        return self.reps_large if size >= LARGE else self.reps


FULL = Plan(
    smoke=False,
    reps=3,
    reps_large=3,
    tap_sizes=(100_000, 200_000, 1_000_000),
    target_sizes=(20_000, 100_000),
    e2e_size=100_000,
    scaling_tap=(10_000, 100_000, 1_000_000),
    scaling_target=(10_000, 20_000, 100_000),
    sandbox_starts=5,
    sandbox_patches=50,
    profile_size=50_000,
)
SMOKE = Plan(
    smoke=True,
    reps=1,
    reps_large=1,
    tap_sizes=(300,),
    target_sizes=(300,),
    e2e_size=300,
    scaling_tap=(100, 300),
    scaling_target=(300,),
    sandbox_starts=1,
    sandbox_patches=3,
    profile_size=300,
    merchant_size=300,
    merchant_check=300,
    values_size=300,
    values_store_sizes=(300, 1000),
    media_size=50,
)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass
class Bench:
    """One benchmark run: the plan, its inputs, and the figures measured so far."""

    plan: Plan
    work: Workloads
    sandbox: Sandbox | None = None
    tap_rows: dict[int, dict[str, Any]] | None = None
    target_rows: dict[int, dict[str, Any]] | None = None

    def tap(self, size: int) -> dict[str, Any]:
        rows = self.tap_rows = self.tap_rows or {}
        if size not in rows:
            log(f"tap at {label(size)} products, {self.plan.reps_for(size)} run(s)")
            rows[size] = section_tap.measure(self.work, size, self.plan.reps_for(size))
            row = rows[size]
            log(f"  tap {row['tap_rps']:,.0f} records/s, ratio {row['ratio']:.2f}")
        return rows[size]

    def target(self, size: int) -> dict[str, Any]:
        rows = self.target_rows = self.target_rows or {}
        if size not in rows:
            assert self.sandbox is not None
            log(f"target at {label(size)} products, {self.plan.reps_for(size)} run(s)")
            rows[size] = section_target.measure(
                self.work, self.sandbox, size, self.plan.reps_for(size)
            )
            row = rows[size]
            log(f"  target {row['target_pps']:,.0f} products/s, ratio {row['ratio']:.2f}")
        return rows[size]


def method(plan: Plan) -> list[str]:
    """How the figures are made, for RESULTS.md."""
    return [
        f"- Each figure is the median of {plan.reps} run(s) ({plan.reps_large} at 1M products); "
        "a ratio is taken within one run (both sides back to back) and its median reported.",
        "- Inputs: `bench/generate.py`, seed 7, the acceptance shape and mapping "
        "(tests/data/acceptance); every product is valid, SKUs `BENCH-0000001`...",
        "- Wall time per process from spawn to exit; CPU time and peak memory (ru_maxrss) from "
        "`os.wait4` rusage. Meltano's process tree is sampled with psutil every 0.2 s.",
        "- Tap: `tap-erp-xml` writes every record to /dev/null; records/s = records / wall time; "
        "records counted from its end-of-stream log line (or a counting pass through a pipe). "
        "Bare loop: `etree.iterparse(..., tag=Product)` with `clear()` and sibling deletion.",
        "- Target: `target-akeneo` reads a Singer file made once by the tap, into an empty "
        "akeneo-sandbox (`SandboxProcess(db=':memory:')`, reset between runs), default settings "
        "plus skip_unchanged with a fresh cache; then again unchanged with the same cache. "
        "Requests counted by the sandbox (`/sandbox/stats`); product requests are PATCH/POST "
        "on /api/rest/v1/products, structure requests are everything else (token, reads).",
        "- Bare poster: pre-builds the exact payload lines before the clock starts, then times "
        "only 100-line collection PATCH requests through one requests.Session from 2 threads "
        "(the target's default max_concurrency is 2), against the same sandbox in the same run.",
        "- End to end: `meltano run tap-erp-xml target-akeneo` with the repository's meltano.yml "
        "(environment dev), settings from environment variables, state isolated per run.",
        "- Google Merchant: `bench/generate_merchant.py`, seed 7; the bare loop over `item` "
        "elements, the tap with `preset: google-merchant`, with plain fields and `stream_maps` "
        "expressions giving the same records, then with the plain fields alone (the ceiling); "
        "records/s = records / wall time.",
        "- Value deltas: a full load of the Singer file into a sandbox with a file database, "
        "then tonight's file (every 20th product's prices changed) against the same database "
        "with the latency model on, each run from a copy of the state store, twice per mode in "
        "ABBA order (`send: whole_product`, `changed_values`, `changed_values`, `whole_product`); "
        "bytes and values sent are the run report's. State store "
        "size: the file after the full load, and the store code fed acceptance-shape states "
        "in-process at the larger sizes (`bench/section_values.py`).",
        "- Media: one run (not repeated) of `target-akeneo` on products with one image URL each "
        "from a loopback HTTP server in the harness (a distinct ~1 kB PNG per product, with an "
        "ETag), into an empty sandbox with its built-in demo catalog, then the same input again "
        "with the same state store. Image requests counted by that server, media requests "
        "(/api/rest/v1/media-files) by the sandbox.",
    ]


def notes(plan: Plan) -> list[str]:
    """Caveats a reader needs to weigh the figures."""
    found = [
        "The target's products/s is over its whole process (interpreter and singer-sdk start, "
        "PIM structure reads, reading the Singer file); the bare poster's clock starts after "
        "its payloads are built and its token is fetched, so small sizes favour the bare side.",
        "The sandbox, the measured process and this harness share the machine's cores; the "
        "figures are for comparison within a run, not absolute capacity of a real Akeneo.",
        "pyinstrument samples the main thread only: the target's HTTP worker threads do not "
        "appear in its profile.",
    ]
    if plan.reps_large < plan.reps:
        found.append(f"1M-product figures are medians of {plan.reps_large} run(s) only, for time.")
    return found


def commands(smoke: bool) -> list[str]:
    """The commands behind the figures."""
    flag = " --smoke" if smoke else ""
    return [
        f"bash bench/run.sh{flag}    # = bash scripts/bootstrap.sh; .venv/bin/python bench/run.py",
        "python bench/generate.py bench/out/erp-<N>-seed7.xml --products <N> --seed 7",
        "python bench/baselines.py lxml bench/out/erp-<N>-seed7.xml",
        "tap-erp-xml --config bench/out/tap-<N>.json > /dev/null",
        "tap-erp-xml --config bench/out/tap-<N>.json > bench/out/erp-<N>-seed7.singer   # once",
        "target-akeneo --config target.json < bench/out/erp-<N>-seed7.singer > /dev/null",
        "BENCH_CLIENT_ID=.. BENCH_SECRET=.. BENCH_USERNAME=.. BENCH_PASSWORD=.. "
        "python bench/baselines.py post bench/out/erp-<N>-seed7.xml <sandbox URL>",
        "MELTANO_ENVIRONMENT=dev TAP_ERP_XML_FILES='[\"<export>\"]' TARGET_AKENEO_...=.. "
        "meltano run tap-erp-xml target-akeneo",
        "akeneo-sandbox serve --host 127.0.0.1 --port <free> --db :memory: "
        "--catalog tests/data/acceptance/catalog.json",
        "python bench/generate_merchant.py bench/out/merchant-<N>-seed7.xml --items <N>",
        "tap-erp-xml --config bench/out/merchant-preset-<N>.json > /dev/null   # and -maps-",
        "target-akeneo --config target.json < media.singer.jsonl   # twice, images on loopback",
    ]


def run_sections(bench: Bench, only: set[str], install: bool) -> dict[str, Any]:
    """Measure the chosen sections; returns the results without the profiles."""
    plan, work = bench.plan, bench.work
    results: dict[str, Any] = {}
    if "tap" in only:
        results["tap"] = [bench.tap(size) for size in plan.tap_sizes]
    if "target" in only:
        assert bench.sandbox is not None
        size = plan.target_sizes[0]
        log(f"payload parity of the bare poster and the target at {label(size)}")
        results["parity"] = section_target.payload_parity(work, bench.sandbox, size)
        results["target"] = [bench.target(size) for size in plan.target_sizes]
    if "e2e" in only:
        assert bench.sandbox is not None
        section_e2e.install(install, work.out / "logs" / "meltano-install.log")
        size = plan.e2e_size
        log(f"meltano run at {label(size)} products, {plan.reps_for(size)} run(s)")
        results["e2e"] = section_e2e.measure(work, bench.sandbox, size, plan.reps_for(size))
    if "scaling" in only:
        tap = [bench.tap(size) for size in plan.scaling_tap]
        target = [bench.target(size) for size in plan.scaling_target]
        results["scaling"] = {
            "tap": [
                {"size": r["size"], "seconds": r["tap_seconds"], "peak_mb": r["tap_peak_mb"]}
                for r in tap
            ],
            "target": [{"size": r["size"], "seconds": r["target_seconds"]} for r in target],
        }
    if "merchant" in only:
        size = plan.merchant_size
        log(f"google-merchant preset vs stream_maps at {label(size)} items, {plan.reps} run(s)")
        row = section_merchant.measure(work, size, plan.reps, plan.merchant_check)
        log(
            f"  preset {row['vs_maps']:.2f}x stream_maps (ceiling {row['ceiling_vs_maps']:.2f}x), "
            f"{row['vs_lxml']:.2f}x bare lxml"
        )
        results["merchant"] = row
    if "values" in only:
        size = plan.values_size
        log(f"nightly delta of {label(size)} products, 5% price changed: values vs whole")
        row = section_values.measure(work, size, plan.values_store_sizes)
        log(f"  changed values send {row['bytes_ratio']:.3f} of the whole products' bytes")
        results["values"] = row
    if "media" in only:
        size = plan.media_size
        log(f"{label(size)} products with one image each from a loopback server, then re-run")
        results["media"] = section_media.measure(work, size)
    if "sandbox" in only:
        assert bench.sandbox is not None
        log("sandbox start and PATCH latency")
        results["sandbox"] = section_sandbox.measure(
            work, bench.sandbox, plan.sandbox_starts, plan.sandbox_patches
        )
    return results


def profile_misses(bench: Bench, found: list[report.Check]) -> list[dict[str, Any]]:
    """pyinstrument profiles of the programs behind missed targets."""
    missed = {check.section for check in found if not check.passed}
    made: list[dict[str, Any]] = []
    size = bench.plan.profile_size
    if missed & {"tap", "scaling"}:
        log(f"profiling tap-erp-xml at {label(size)}")
        made.append(profiles.as_dict(profiles.profile_tap(bench.work, size)))
    if "target" in missed and bench.sandbox is not None:
        log(f"profiling target-akeneo at {label(size)}")
        made.append(profiles.as_dict(profiles.profile_target(bench.work, bench.sandbox, size)))
    return made


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmarks of tap-erp-xml and target-akeneo")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, 1 run (CI)")
    parser.add_argument("--only", action="append", choices=SECTIONS, help="repeatable")
    parser.add_argument("--reps", type=int, help="runs per figure (default 3; smoke 1)")
    parser.add_argument("--reps-large", type=int, help="runs per figure at 1M products")
    parser.add_argument("--out", type=Path, help="generated files (default bench/out)")
    parser.add_argument("--results", type=Path, help="where to write RESULTS.md")
    parser.add_argument("--meltano-install", action="store_true", help="force meltano install")
    parser.add_argument("--no-profile", action="store_true", help="do not profile misses")
    parser.add_argument("--from-json", type=Path, help="only re-render a results.json")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.from_json:
        return rerender(args.from_json, args.results or BENCH / "RESULTS.md")
    plan = SMOKE if args.smoke else FULL
    if args.reps:
        plan = replace(plan, reps=args.reps, reps_large=args.reps_large or args.reps)
    if args.reps_large:
        plan = replace(plan, reps_large=args.reps_large)
    temporary = tempfile.mkdtemp(prefix="bench-smoke-") if plan.smoke and not args.out else None
    out = args.out or (Path(temporary) if temporary else BENCH / "out")
    out.mkdir(parents=True, exist_ok=True)
    (out / "logs").mkdir(exist_ok=True)
    default_results = out / "RESULTS.md" if plan.smoke else BENCH / "RESULTS.md"
    results_path: Path = args.results or default_results
    only = set(args.only or SECTIONS)
    bench = Bench(plan, Workloads(out))
    log(f"generated files and logs in {out}")
    try:
        results = _measure(bench, only, args)
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    raw = out / "results.json"
    results["raw"] = str(raw.relative_to(ROOT) if raw.is_relative_to(ROOT) else raw)
    text = report.render(
        results, [report.Check(**c) for c in results["checks"]], commands(plan.smoke)
    )
    if only != set(SECTIONS) and not plan.smoke and results_path.exists():
        # A run of some sections keeps the others' figures in RESULTS.md.
        text = report.splice(results_path.read_text(encoding="utf-8"), text, only)
    # The product model, preview and load figures come from their own scripts; keep them.
    results_path.write_text(
        run_load.keep_blocks(results_path, _keep_own_blocks(results_path, text)),
        encoding="utf-8",
    )
    raw.write_text(json.dumps(results, indent=2), encoding="utf-8")
    log(f"wrote {results_path}")
    print(json.dumps(_summary(results, results_path)))
    return 0


def _keep_own_blocks(path: Path, text: str) -> str:
    """The blocks section_variants.py and section_pages.py wrote, kept in the new text."""
    text = section_variants.keep_block(path, text)
    return section_variants.keep_block(path, text, section_pages.MARKERS)


def rerender(raw: Path, results_path: Path) -> int:
    """Write RESULTS.md again from a results.json, measuring nothing."""
    results = json.loads(raw.read_text(encoding="utf-8"))
    found = [report.Check(**c) for c in results["checks"]]
    text = report.render(results, found, commands(bool(results["plan"]["smoke"])))
    results_path.write_text(
        run_load.keep_blocks(results_path, _keep_own_blocks(results_path, text)),
        encoding="utf-8",
    )
    log(f"wrote {results_path} from {raw}")
    return 0


def _measure(bench: Bench, only: set[str], args: argparse.Namespace) -> dict[str, Any]:
    needs_sandbox = bool(only & {"target", "e2e", "scaling", "sandbox"})
    started = time.perf_counter()
    if needs_sandbox:
        from akeneo_sandbox.testing import SandboxProcess

        with SandboxProcess(catalog=CATALOG, db=":memory:") as sandbox:
            bench.sandbox = sandbox
            results = _sections_and_profiles(bench, only, args)
    else:
        results = _sections_and_profiles(bench, only, args)
    results["seconds"] = time.perf_counter() - started
    return results


def _sections_and_profiles(
    bench: Bench, only: set[str], args: argparse.Namespace
) -> dict[str, Any]:
    results = run_sections(bench, only, args.meltano_install)
    found = report.checks(results)
    profiled = not bench.plan.smoke and not args.no_profile
    results["profiles"] = profile_misses(bench, found) if profiled else None
    results["checks"] = [asdict(check) for check in found]
    results["machine"] = report.machine()
    results["plan"] = asdict(bench.plan)
    results["method"] = method(bench.plan)
    results["notes"] = notes(bench.plan)
    return results


def _summary(results: dict[str, Any], path: Path) -> dict[str, Any]:
    """The stdout JSON: every section's medians (no repetitions) and the checks."""

    def strip(row: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in row.items() if k not in {"runs", "start_runs"}}

    summary: dict[str, Any] = {"results": str(path), "checks": results["checks"]}
    for name in SECTIONS:
        value = results.get(name)
        if isinstance(value, list):
            summary[name] = [strip(row) for row in value]
        elif isinstance(value, dict):
            summary[name] = strip(value) if name != "scaling" else value
    return summary


if __name__ == "__main__":
    sys.exit(main())
