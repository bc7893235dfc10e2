#!/usr/bin/env bash
# Build both plugins for release, check them as PyPI will, and prove each wheel works alone.
#   bash scripts/release.sh [OUT_DIR]     (default: dist/)
# Builds wheel and sdist of tap-erp-xml and target-akeneo into OUT_DIR, runs
# `twine check --strict`, installs each wheel with its extras into a fresh virtual environment,
# runs `--about` from there, and lists what to upload and which files go into the Hub PR.
# It uploads nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-dist}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
if [ ! -x .venv/bin/twine ]; then bash scripts/bootstrap.sh; fi
PY=.venv/bin/python
declare -A EXTRAS=([tap-erp-xml]="[s3,sftp]" [target-akeneo]="")
for plugin in tap-erp-xml target-akeneo; do
  echo "release: building $plugin"
  rm -f "$OUT/${plugin//-/_}"-*
  "$PY" -m build --quiet --installer uv --outdir "$OUT" "$plugin" >/dev/null
done
echo "release: twine check --strict"
.venv/bin/twine check --strict "$OUT"/*
for plugin in tap-erp-xml target-akeneo; do
  wheel=$(ls "$OUT/${plugin//-/_}"-*.whl)
  venv=$(mktemp -d)/venv
  .venv/bin/uv venv --quiet --python "$PY" "$venv"
  .venv/bin/uv pip install --quiet --python "$venv/bin/python" "$plugin${EXTRAS[$plugin]} @ file://$wheel"
  version=$("$venv/bin/$plugin" --about --format=json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["version"])')
  echo "release: $plugin $version installs from its wheel and answers --about"
  rm -rf "$(dirname "$venv")"
done
echo "release: upload with: twine upload $OUT/*"
ls -1 "$OUT"
echo "release: Hub pull request (meltano/hub): copy"
echo "  hub/extractors/tap-erp-xml/erp-to-akeneo.yml -> _data/meltano/extractors/tap-erp-xml/erp-to-akeneo.yml"
echo "  hub/loaders/target-akeneo/erp-to-akeneo.yml  -> _data/meltano/loaders/target-akeneo/erp-to-akeneo.yml"
echo "  hub/logos/extractors/tap-erp-xml.svg         -> static/assets/logos/extractors/tap-erp-xml.svg"
echo "  hub/logos/loaders/target-akeneo.svg          -> static/assets/logos/loaders/target-akeneo.svg"
echo "  and the maintainers.yml / default_variants.yml entries in hub/README.md"
