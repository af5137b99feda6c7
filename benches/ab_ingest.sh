#!/usr/bin/env bash
# Two or more mieruka builds ingesting one NDJSON file, alternated, with DuckDB's
# `CREATE TABLE t AS SELECT * FROM read_json(FILE)` into its own database file once per round.
# FILE may be a chain directory from `mieruka gen` (footprints.ndjson and bom.csv): then
# DuckDB loads it as `compare_user_path.py` does (the NDJSON, the BOM CSV and the two small
# tables its decomposition reads).
#
#   python3 -m venv benches/.venv && benches/.venv/bin/pip install duckdb
#   cp target/release/mieruka /tmp/mieruka-before   # a build of the commit before, and so on
#   benches/ab_ingest.sh ROUNDS FILE BINARY...
#
# Each line: the binary (or duckdb), wall seconds, peak RSS, user and system CPU seconds
# (`/usr/bin/time`). The builds go in turn, their order reversed every other round (on these
# machines the first process after DuckDB's is often the slow one), each into a fresh data
# directory under $TMPDIR. Quote medians of the rounds, never one run. PAUSE=SECONDS waits
# that long before each process: on a virtual machine whose host takes back free memory, a
# process started after a pause faults in memory the host must back again, as a user's first
# ingest does (the default, no pause, measures processes run back to back).
set -euo pipefail
if (($# < 3)); then
    sed -n '2,15p' "$0"
    exit 2
fi
rounds=$1
file=$(realpath "$2")
shift 2
bins=("$@")
pause=${PAUSE:-0}
here=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON:-$here/.venv/bin/python}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for ((r = 1; r <= rounds; r++)); do
    order=("${bins[@]}")
    if ((r % 2 == 0)); then
        order=()
        for ((i = ${#bins[@]} - 1; i >= 0; i--)); do order+=("${bins[i]}"); done
    fi
    for bin in "${order[@]}"; do
        rm -rf "$work/data"
        sync
        sleep "$pause"
        /usr/bin/time -f "$bin %e s %M KiB %U u %S s" "$bin" ingest "$file" --data "$work/data" \
            >/dev/null 2>"$work/err" || { cat "$work/err"; exit 1; }
        tail -1 "$work/err"
    done
    rm -f "$work/duck.db"
    sync
    sleep "$pause"
    if [[ -d $file ]]; then
        /usr/bin/time -f "duckdb %e s %M KiB %U u %S s" "$python" -c "
import sys
sys.path.insert(0, '$here')
from compare_user_path import DUCK_INGEST
sys.argv = ['-', '$work/duck.db', '$file']
exec(DUCK_INGEST)
" 2>&1 | tail -1
    else
        /usr/bin/time -f "duckdb %e s %M KiB %U u %S s" "$python" -c '
import duckdb, sys
c = duckdb.connect(sys.argv[2])
c.execute(f"CREATE TABLE t AS SELECT * FROM read_json(\x27{sys.argv[1]}\x27)")
c.close()
' "$file" "$work/duck.db" 2>&1 | tail -1
    fi
done
