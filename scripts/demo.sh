#!/usr/bin/env bash
# The demo from a fresh clone: install, start the embedded akeneo-sandbox PIM on
# 127.0.0.1:8081, run `meltano run tap-erp-xml target-akeneo` on examples/ (a full export with
# images, cross-sells and category paths, then the next day's export without one product),
# show the PIM and print the address of its browser (kept up until Enter from a terminal).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export MELTANO_SEND_ANONYMOUS_USAGE_STATS=false MELTANO_CLI_DISABLE_VERSION_CHECK=true
# meltano.yml's `demo` environment: `dev` (the sandbox) with full exports and missing products
# disabled.
export MELTANO_ENVIRONMENT=demo
# `meltano install` uses uv: let it byte-compile the plugins' environments too.
export UV_COMPILE_BYTECODE=1
mkdir -p output
# The sandbox keeps its data in output/sandbox.db, next to Meltano's state, so a second
# demo run shows incremental behaviour: unchanged files are not read, and only the products
# the PIM rejected before are sent again (until their option exists or their value is fixed).
.venv/bin/akeneo-sandbox serve --catalog examples/catalog.json --db output/sandbox.db \
  2> output/sandbox.log &
sandbox_pid=$!
trap 'kill "$sandbox_pid" 2>/dev/null || true; wait "$sandbox_pid" 2>/dev/null || true' EXIT
.venv/bin/python scripts/show_pim.py --wait
echo "== meltano install"
.venv/bin/meltano install
status=0
echo "== change preview: a dry run of the same export (nothing sent; its own state, read in full)"
TARGET_AKENEO_DRY_RUN=true .venv/bin/meltano run --full-refresh --state-id-suffix preview \
  tap-erp-xml target-akeneo || status=$?
echo "== meltano run tap-erp-xml target-akeneo (examples/erp: the full export of 2026-11-20)"
# Images come from examples/images, X_SELL/UPSELL links follow once both products are in,
# and the category paths' missing nodes are created.
.venv/bin/meltano run tap-erp-xml target-akeneo || status=$?
echo "== meltano run tap-erp-xml target-akeneo (examples/erp-next: the export of 2026-11-21)"
# The same products but DEMO-3001: on the export's ACTIVATE_VERSION the target disables it.
TAP_ERP_XML_FILES='["examples/erp-next/*.xml"]' \
  TARGET_AKENEO_RUN_REPORT_PATH=output/next-run-report.json \
  TARGET_AKENEO_DEAD_LETTER_PATH=output/next-dead-letter.jsonl \
  .venv/bin/meltano run tap-erp-xml target-akeneo || status=$?
echo "== meltano run tap-erp-xml target-akeneo on examples/apparel (flat rows -> product models)"
# One row per SKU; the target builds the root model, the colour sub-models and the variants.
TAP_ERP_XML_FILES='["examples/apparel/*.xml"]' \
  TAP_ERP_XML_STREAMS="$(cat examples/apparel/tap-streams.json)" \
  TARGET_AKENEO_MAPPING_FILE=examples/apparel/mapping.yml \
  TARGET_AKENEO_RUN_REPORT_PATH=output/apparel-run-report.json \
  TARGET_AKENEO_DEAD_LETTER_PATH=output/apparel-dead-letter.jsonl \
  .venv/bin/meltano run --state-id-suffix apparel tap-erp-xml target-akeneo || status=$?
echo "== the PIM now holds"
.venv/bin/python scripts/show_pim.py
echo "== pages (nothing is opened for you):"
echo "   change preview:   $PWD/output/target-akeneo-dry-run.html"
echo "   run report:       $PWD/output/run-report.html (next day: output/next-run-report.html,"
echo "                     apparel: output/apparel-run-report.html)"
echo "   sandbox browser:  http://127.0.0.1:8081/sandbox/ui"
if [ -t 0 ] && [ -t 1 ]; then
  read -r -p "The sandbox serves it until you press Enter. " _ || true
else
  echo "(the sandbox stops with this script; to browse later:" \
    ".venv/bin/akeneo-sandbox serve --db output/sandbox.db)"
fi
exit "$status"
