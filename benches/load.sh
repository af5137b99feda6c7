#!/usr/bin/env bash
# Load test of `mieruka serve` on the bundled demo dataset with wrk (Debian: apt-get install wrk).
#
#   bash benches/load.sh [SECONDS] [CONNECTIONS]     # defaults: 30 s, 32 connections
#
# Builds the release binary, starts it on a free loopback port, and runs wrk against
#   1. /dashboards/hotspots   — a dashboard page with six charts (inline SVG) and a table
#   2. /charts/hotspots/3.svg — one chart (the supplier treemap) as SVG
# each after a short warm-up, printing wrk's latency distribution (--latency). Pages and charts
# are kept per dataset after their first render, so wrk measures the kept responses; the
# script first times 20 uncached renders (distinct parameters) one at a time. Targets:
# p99 <= 20 ms for the page and no errors (non-2xx or socket errors).
# Request logs go to benches/out/load-server.log, as a deployed server would write them.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_EACH="${1:-30}"
CONNECTIONS="${2:-32}"
THREADS=2

command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 2; }
cargo build --release --quiet
mkdir -p benches/out

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:${PORT}"
./target/release/mieruka serve --bind "127.0.0.1:${PORT}" >benches/out/load-server.log 2>&1 &
SERVER=$!
trap 'kill -TERM $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    curl -fsS "${BASE}/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done

# Rendering without the cache: 20 requests for distinct parameters (each one a miss), in turn.
echo "uncached renders of /dashboards/hotspots (20 distinct top=N, one at a time):"
for n in $(seq 11 30); do
    curl -fsS -o /dev/null -w "%{time_total}\n" "${BASE}/dashboards/hotspots?top=${n}"
done | sort -n | awk '{t[NR]=$1} END {printf "  median %.1f ms, max %.1f ms\n", t[int((NR+1)/2)]*1000, t[NR]*1000}'

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
echo "wrk: ${THREADS} threads, ${CONNECTIONS} connections, ${SECONDS_EACH} s each"
for path in "/dashboards/hotspots" "/charts/hotspots/3.svg"; do
    curl -fsS -o /dev/null -w "GET ${path}: %{http_code}, %{size_download} bytes\n" "${BASE}${path}"
    wrk -t"${THREADS}" -c"${CONNECTIONS}" -d5s "${BASE}${path}" >/dev/null   # warm-up
    echo "=== ${path}"
    wrk -t"${THREADS}" -c"${CONNECTIONS}" -d"${SECONDS_EACH}s" --latency "${BASE}${path}"
done
