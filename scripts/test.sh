#!/usr/bin/env bash
# The whole test suite from a fresh clone: set-up, lint, types, plugin definitions, tests.
# Extra arguments go to pytest (e.g. `scripts/test.sh -m "not reliability"`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export MELTANO_SEND_ANONYMOUS_USAGE_STATS=false MELTANO_CLI_DISABLE_VERSION_CHECK=true
# `meltano install` uses uv: let it byte-compile the plugins' environments too.
export UV_COMPILE_BYTECODE=1
echo "== ruff"; .venv/bin/ruff check . && .venv/bin/ruff format --check .
echo "== mypy"; .venv/bin/mypy
echo "== plugin definitions"; .venv/bin/python scripts/plugin_definitions.py --check
echo "== pytest"
# pytest exits 5 when it collected no test: with `set -e` that fails the run as well.
.venv/bin/pytest "$@"
