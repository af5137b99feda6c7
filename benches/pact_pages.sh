#!/usr/bin/env bash
# PACT list pages at a million footprints: `mieruka serve` on a data directory with a PACT
# config, a token for its client, the `dataset` of the first page's `next` link, then three
# requests of `LIMIT` footprints at each offset, under /2/ and /3/, timed by `curl`.
#
#   benches/pact_pages.sh BINARY DATA CONFIG CLIENT SECRET [LIMIT]
#
# CONFIG's `[[pact.client]]` CLIENT must have `companies = ["*"]` and the SHA-256 of SECRET.
# Each line: the binary, the path, the offset, the footprints on the page and the three
# times in milliseconds (the first is the one that reads its documents from the originals).
# Run two builds in turn, twice, and quote the ranges.
set -euo pipefail
if (($# < 5)); then
    sed -n '2,11p' "$0"
    exit 2
fi
bin=$1 data=$2 config=$3 client=$4 secret=$5 limit=${6:-100}
port=${PORT:-8313}
"$bin" serve --data "$data" --config "$config" --bind "127.0.0.1:$port" >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
until curl -s "localhost:$port/healthz" >/dev/null; do sleep 0.2; done
token=$(curl -s -u "$client:$secret" -d grant_type=client_credentials "localhost:$port/auth/token" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
auth="Authorization: Bearer $token"
for major in 2 3; do
    # The first page builds the list if the server has not yet; its link names the dataset.
    link=$(curl -s -D - -o /dev/null -H "$auth" "localhost:$port/$major/footprints?limit=$limit" |
        grep -i '^link:')
    dataset=$(sed -E 's/.*dataset=([0-9a-f]+).*/\1/' <<<"$link")
    for offset in 100 500000 900000 1001900; do
        times=""
        for _ in 1 2 3; do
            t=$(curl -s -o "${TMPDIR:-/tmp}/pact-page.json" -w '%{time_total}' -H "$auth" \
                "localhost:$port/$major/footprints?limit=$limit&offset=$offset&dataset=$dataset")
            times+=" $(python3 -c "print(round($t * 1000, 1))")"
        done
        n=$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["data"]))' \
            "${TMPDIR:-/tmp}/pact-page.json")
        echo "$bin /$major/ offset=$offset footprints=$n ms:$times"
    done
done
