#!/usr/bin/env python3
"""One large JSON file of footprints, mieruka beside DuckDB, in one run.

    python3 -m venv benches/.venv && benches/.venv/bin/pip install duckdb
    cargo build --release
    benches/.venv/bin/python benches/compare_json_array.py [--nodes 1002000] [--runs 2]

From the user-path chain's NDJSON (benches/out/user-N/chain/footprints.ndjson, made by
compare_user_path.py), writes the same footprints as a JSON array (`[…]`) and as a PACT list
response (`{"data":[…]}`) beside it, then times, alternated, a process each (wall time and
peak RSS):
  mieruka ingest array.json   into a fresh data directory (full validation, the segment,
                              the originals, the graph index)
  mieruka ingest list.json    the same, from the list response
  DuckDB read_json array.json CREATE TABLE t AS SELECT * FROM read_json('array.json') into a
                              fresh database file (format detected: an array of objects)
  DuckDB read_json list.json  the same statement on the list response
A process that fails (DuckDB's object size limit) is reported with its message.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

DUCK = """
import duckdb, os, sys
db = sys.argv[2]
if os.path.exists(db):
    os.remove(db)
con = duckdb.connect(db)
con.execute(f"CREATE TABLE t AS SELECT * FROM read_json('{sys.argv[1]}')")
print(con.execute("SELECT count(*) FROM t").fetchone()[0])
con.close()
"""


def run(cmd):
    """Runs cmd: (wall seconds, peak RSS MiB, None) or (None, None, its last error line)."""
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = p.stderr.read()
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    if os.waitstatus_to_exitcode(status) != 0:
        lines = err.decode(errors="replace").strip().splitlines() or ["(no message)"]
        return None, None, next((l for l in lines if "Error" in l), lines[-1])
    return wall, usage.ru_maxrss / 1024, None


def write_json(ndjson, path, head, tail):
    """The NDJSON's documents, one per line, as one JSON text between head and tail."""
    if path.exists():
        return
    tmp = path.with_suffix(".tmp")
    with open(ndjson, "rb") as src, open(tmp, "wb") as out:
        out.write(head)
        first = True
        for line in src:
            line = line.strip()
            if not line:
                continue
            if not first:
                out.write(b",\n")
            out.write(line)
            first = False
        out.write(tail)
    tmp.rename(path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=1_002_000)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--bin", default=str(ROOT / "target/release/mieruka"))
    args = ap.parse_args()

    base = ROOT / "benches/out" / f"user-{args.nodes}"
    ndjson = base / "chain/footprints.ndjson"
    if not ndjson.exists():
        raise SystemExit(f"{ndjson} is missing: run compare_user_path.py --nodes {args.nodes} first")
    out = base / "json"
    out.mkdir(exist_ok=True)
    array, listed = out / "array.json", out / "list.json"
    write_json(ndjson, array, b"[", b"]\n")
    write_json(ndjson, listed, b'{"data":[', b"]}\n")
    data, db = out / "gx", out / "duck.db"

    def mieruka(path):
        subprocess.run(["rm", "-rf", str(data)], check=True)
        return run([args.bin, "ingest", str(path), "--data", str(data)])

    def duckdb(path):
        return run([sys.executable, "-c", DUCK, str(path), str(db)])

    jobs = [("mieruka ingest array.json", lambda: mieruka(array)),
            ("mieruka ingest list.json", lambda: mieruka(listed)),
            ("DuckDB read_json array.json", lambda: duckdb(array)),
            ("DuckDB read_json list.json", lambda: duckdb(listed))]
    results = {name: [] for name, _ in jobs}
    for _ in range(args.runs):
        for name, job in jobs:
            results[name].append(job())
    subprocess.run(["rm", "-rf", str(data), str(db)], check=True)

    mb = array.stat().st_size / 1e6
    print(f"\n{args.nodes} footprints, array.json {mb:.0f} MB; {os.cpu_count()} cores; "
          f"{args.runs} alternated runs\n")
    print("| process | median s (runs) | MB/s | peak RSS MiB |")
    print("|---|---|---:|---:|")
    for name, runs in results.items():
        failed = [e for _, _, e in runs if e]
        if failed:
            print(f"| {name} | fails: {failed[0][:160]} | | |")
            continue
        walls = [w for w, _, _ in runs]
        med = statistics.median(walls)
        rss = max(r for _, r, _ in runs)
        print(f"| {name} | {med:.2f} ({', '.join(f'{w:.2f}' for w in walls)}) | {mb / med:.0f} | {rss:,.0f} |")


if __name__ == "__main__":
    main()
