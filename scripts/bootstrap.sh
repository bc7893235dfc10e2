#!/usr/bin/env bash
# Create .venv (if needed) and install the packages (the three plugins/sandbox and the
# optional Dagster orchestration) and the dev tools into it.
# Needs only a Python >= 3.11 with venv and network access to PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON_BIN=${PYTHON:-}
if [ -z "$PYTHON_BIN" ]; then
  for candidate in python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null 2>&1; then PYTHON_BIN=$candidate; break; fi
  done
fi
if [ ! -x .venv/bin/python ]; then
  echo "bootstrap: creating .venv with $PYTHON_BIN"
  "$PYTHON_BIN" -m venv .venv
fi
if [ ! -x .venv/bin/uv ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check "uv>=0.8,<1"
fi
echo "bootstrap: installing packages and dev tools"
# Byte-compile at install time: plugins start in a fraction of the time when the
# environment forbids writing .pyc files at run time (PYTHONDONTWRITEBYTECODE).
.venv/bin/uv pip install --quiet --compile-bytecode --python .venv/bin/python --group dev \
  -e ./akeneo-sandbox -e "./tap-erp-xml[s3,sftp]" -e "./target-akeneo" -e ./orchestrate
