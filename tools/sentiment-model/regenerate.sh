#!/usr/bin/env bash
# Regenerates crates/starling-enrich/models/sentiment.bin.zst: trains on the XLM-T training
# splits of the shared data (eight languages) with VADER's lexicon (PyPI vaderSentiment, MIT).
# XLM-T's English training split holds 1,430 of TweetEval's 2,000 validation posts: score
# TweetEval with `starling eval sentiment --exclude-trained .../xlm-t/english`.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
shared="${STARLING_SHARED:-$root/../shared}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 -m pip download --quiet --no-deps -d "$work" vaderSentiment==3.3.2
python3 -m zipfile -e "$work"/vaderSentiment-3.3.2-*.whl "$work/wheel"
cd "$root"
data=()
for language in arabic english french german hindi italian portuguese spanish; do
    data+=("$shared/data/sentiment/xlm-t/$language")
done
cargo run --release -p starling -- train sentiment --data "${data[@]}" \
    --lexicon "$work/wheel/vaderSentiment" \
    --out crates/starling-enrich/models/sentiment.bin.zst
