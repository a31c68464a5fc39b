#!/usr/bin/env bash
# API latency under load: `starling demo` archives a generated scenario as fast as it can,
# then wrk (Debian's `wrk`) loads each endpoint on loopback and this prints requests/s and the
# latency percentiles wrk measured. Run from the repository root after
# `cargo build --release -p starling`:
#
#   tools/bench/serve-api.sh [POSTS] [SECONDS] [CONNECTIONS]
set -euo pipefail

posts=${1:-200000}
seconds=${2:-10}
connections=${3:-32}
bin=${STARLING:-target/release/starling}
port=${PORT:-7897}
base="http://127.0.0.1:$port"

command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
[ -x "$bin" ] || { echo "$bin is missing: cargo build --release -p starling" >&2; exit 1; }

"$bin" demo --addr "127.0.0.1:$port" --posts "$posts" --speed 1000000000 >/dev/null &
server=$!
trap 'kill -INT $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT

# Wait for the archive to fill (the playback ends; the ingest stops running).
for _ in $(seq 1 600); do
    status=$(curl -sf "$base/api/status" || true)
    if [[ "$status" == *'"running":false'* && "$status" != *'"posts":0,'* ]]; then
        break
    fi
    sleep 0.5
done
echo "archive: $(curl -sf "$base/api/status" | grep -o '"posts":[0-9]*')"

key=$(curl -sf "$base/api/search?q=lang:fa&limit=1" | grep -o '"key":"[^"]*"' | head -1 | cut -d'"' -f4)
encoded_key=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$key")

printf '%-58s %10s %9s %9s %9s\n' endpoint "req/s" p50 p90 p99
for target in \
    "/api/status" \
    "/api/search?q=tehran&limit=20" \
    "/api/search?q=%23IranElection%20lang:en%20-is:share&limit=20&facets=true&histogram=true" \
    "/api/counts" \
    "/api/posts/$encoded_key" \
    "/api/detections?limit=50" \
    "/api/watches/persian/matches?limit=30"; do
    threads=$(( connections < 2 ? 1 : 2 ))
    out=$(wrk -t"$threads" -c"$connections" -d"${seconds}s" --latency "$base$target")
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p50=$(awk '$1=="50%" {print $2}' <<<"$out")
    p90=$(awk '$1=="90%" {print $2}' <<<"$out")
    p99=$(awk '$1=="99%" {print $2}' <<<"$out")
    errors=$(grep -o 'Non-2xx or 3xx responses: [0-9]*' <<<"$out" || true)
    printf '%-58s %10s %9s %9s %9s %s\n' "${target:0:58}" "$rps" "$p50" "$p90" "$p99" "$errors"
done
