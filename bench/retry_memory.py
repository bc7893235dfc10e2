"""Issue 21, retries: peak RSS of target-akeneo retrying N rejected products in one run.

The state store is seeded with N pending products (as earlier runs' rejections leave them),
then the target runs with no new record against a fresh sandbox: every product is mapped
from the store, sent and confirmed. `--source DIR` measures another checkout's
target-akeneo package (e.g. main's, for the figure before a change) through PYTHONPATH.

Usage: .venv/bin/python bench/retry_memory.py [--products 100000] [--source DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from measure import run_process

from akeneo_sandbox.testing import SandboxProcess
from target_akeneo.rejected import RejectedStore
from target_akeneo.testing import ACCEPTANCE_RECORDS, CATALOG, TARGET, sandbox_config, singer_lines


def _seed(cache: Path, base_url: str, count: int) -> None:
    """`count` pending products of stream `products`, each a valid record of its own sku."""
    store = RejectedStore(cache, base_url, "identifier")
    template = ACCEPTANCE_RECORDS[0]
    for n in range(count):
        sku = f"SKU-{n:07d}"
        record = {**template, "sku": sku, "erp_id": n, "ean": None}
        store.keep("products", sku, record, "option missing")
    store.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--source", type=Path, help="a target-akeneo directory to measure")
    args = parser.parse_args()
    env = dict(os.environ)
    if args.source is not None:
        env["PYTHONPATH"] = str(args.source.resolve())
    with SandboxProcess(catalog=CATALOG) as sandbox, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        config = sandbox_config(sandbox, work)
        _seed(Path(config["cache_path"]), sandbox.base_url, args.products)
        config_file = work / "config.json"
        config_file.write_text(json.dumps(config), encoding="utf-8")
        singer = work / "empty.singer"
        singer.write_text(singer_lines([]), encoding="utf-8")
        run = run_process(
            [str(TARGET), "--config", str(config_file)],
            stdin=singer,
            log=work / "target.log",
            env=env,
        )
        report = json.loads(Path(config["run_report_path"]).read_text(encoding="utf-8"))
        landed = int(sandbox.stats().get("products_total", 0))
    figures = {
        "products": args.products,
        "retried": report["retried"],
        "created": report["created"],
        "in_pim": landed,
        "peak_mb": round(run.peak_mb, 1),
        "wall_s": round(run.wall, 1),
        "cpu_s": round(run.cpu, 1),
    }
    sys.stdout.write(json.dumps(figures) + "\n")
    return 0 if landed == args.products else 1


if __name__ == "__main__":
    sys.exit(main())
