#!/usr/bin/env bash
# Run the benchmarks: make sure .venv has the packages, then bench/run.py with the given flags
# (--smoke for the tiny CI sizes, --only SECTION, --reps N; see bench/run.py --help).
# Bootstrap output goes to stderr so that stdout carries only the results JSON.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh >&2
exec .venv/bin/python bench/run.py "$@"
