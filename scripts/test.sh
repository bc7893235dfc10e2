#!/usr/bin/env bash
# The whole test suite from a fresh clone: set-up, lint, types, plugin definitions, tests.
# Extra arguments go to pytest (e.g. `scripts/test.sh -m "not reliability"`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
# The browser tests (tests/browser.py) drive Debian's chromium: install it where we can (root
# with apt-get; about a minute with its recommended packages, as tried on this kind of
# machine). If that fails they are skipped with the reason, or fail under CI=true.
if [ -z "${CHROMIUM:-}" ] && ! command -v chromium >/dev/null 2>&1 \
  && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "== apt-get install chromium (for the browser tests)"
  apt_log=$(mktemp)
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq chromium; } >"$apt_log" 2>&1; then
    echo "test.sh: could not install chromium (last lines of apt-get below); continuing"
    tail -n 5 "$apt_log"
  fi
  rm -f "$apt_log"
fi
export MELTANO_SEND_ANONYMOUS_USAGE_STATS=false MELTANO_CLI_DISABLE_VERSION_CHECK=true
# `meltano install` uses uv: let it byte-compile the plugins' environments too.
export UV_COMPILE_BYTECODE=1
echo "== ruff"; .venv/bin/ruff check . && .venv/bin/ruff format --check .
echo "== mypy"; .venv/bin/mypy
echo "== plugin definitions"; .venv/bin/python scripts/plugin_definitions.py --check
echo "== pytest"
# Two pytest-xdist workers, each test file on one worker (its module fixtures built once):
# the end-to-end tests mostly wait on subprocesses and sandboxes, so two overlap well on two
# cores. TEST_WORKERS=0 runs in one process; extra arguments such as `-n 0` also override it.
# pytest exits 5 when it collected no test: with `set -e` that fails the run as well.
.venv/bin/pytest -n "${TEST_WORKERS:-2}" --dist loadfile "$@"
