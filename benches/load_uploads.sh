#!/usr/bin/env bash
# 200 connections on a dashboard while footprints are uploaded (#12 item 11), with wrk
# (Debian: apt-get install wrk):
#
#   bash benches/load_uploads.sh [SECONDS] [CONNECTIONS]     # defaults: 30 s, 200
#
# Ingests the demo dataset into benches/out/uploads/gx, serves it with an admin token
# (`connections_per_address = 256`, as wrk connects from one address), and while wrk asks
# for /dashboards/overview, uploads a new footprint (the PACT v2 example with a fresh id)
# every 3 s: each upload replaces the dataset and empties the page cache. Prints wrk's
# latency distribution and each upload's status and time. Target: no errors, p99 as without
# uploads (one render per page after each upload, the other requests waiting for it).
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_RUN="${1:-30}"
CONNECTIONS="${2:-200}"
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 2; }
cargo build --release --quiet
OUT=benches/out/uploads
rm -rf "$OUT" && mkdir -p "$OUT"
./target/release/mieruka ingest datasets/pc-supply-chain --data "$OUT/gx" >/dev/null
HASH=$(printf %s admin-secret | sha256sum | cut -d' ' -f1)
printf '[limits]\nconnections_per_address = 256\n\n[[token]]\nname = "admin"\nsha256 = "%s"\nrole = "admin"\n' "$HASH" >"$OUT/config.toml"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:${PORT}"
./target/release/mieruka serve --data "$OUT/gx" --config "$OUT/config.toml" --bind "127.0.0.1:${PORT}" >"$OUT/server.log" 2>&1 &
SERVER=$!
trap 'kill -TERM $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    curl -fs "$BASE/healthz" >/dev/null && break
    sleep 0.1
done
(
    for i in $(seq 1 $((SECONDS_RUN / 3))); do
        sleep 3
        python3 - "$i" >"$OUT/doc.json" <<'PY'
import json, sys, uuid
d = json.load(open('tests/fixtures/pact/v2/get-footprint-response.json'))['data']
d['id'] = str(uuid.uuid4())
d['productIds'] = ['urn:upload-test:%s' % sys.argv[1]]
print(json.dumps(d))
PY
        curl -s -o /dev/null -w "upload %{http_code} %{time_total} s\n" \
            -H "Authorization: Bearer admin-secret" -H "Content-Type: application/json" \
            --data-binary @"$OUT/doc.json" "$BASE/api/footprints"
    done
) &
UPLOADS=$!
wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_RUN}s" --latency -H "Authorization: Bearer admin-secret" \
    "$BASE/dashboards/overview"
wait $UPLOADS
