"""`python -m target_akeneo.pending --cache PATH`: list the rejected products still waiting.

One tab-separated line per product (stream, identifier, first and last rejection, last
reason), or `--json` for one JSON object per line with the source record.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from target_akeneo.rejected import list_pending
from target_akeneo.report import dumps
from target_akeneo.settings import DEFAULT_STATE_DIR


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m target_akeneo.pending",
        description="List the rejected products target-akeneo will send again.",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(DEFAULT_STATE_DIR) / "sent-hashes.sqlite",
        help="the target's cache_path (default: %(default)s)",
    )
    parser.add_argument("--json", action="store_true", help="JSON lines with the records")
    args = parser.parse_args(argv)
    if not args.cache.is_file():
        sys.stderr.write(f"pending: no state store at {args.cache}\n")
        return 1
    count = 0
    for item in list_pending(args.cache):
        count += 1
        if args.json:
            sys.stdout.write(dumps(dataclasses.asdict(item)) + "\n")
        else:
            fields = (item.stream, item.identifier, item.first_rejected, item.last_rejected)
            sys.stdout.write("\t".join((*fields, item.reason)) + "\n")
    sys.stderr.write(f"{count} product(s) pending in {args.cache}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
