#!/usr/bin/env bash
# Regenerates crates/starling-enrich/models/langid.bin.zst from lingua's models (crates.io).
set -euo pipefail
cd "$(dirname "$0")"
cargo fetch --manifest-path lingua-models/Cargo.toml
cargo run --release -- ../../crates/starling-enrich/models/langid.bin.zst "$@"
