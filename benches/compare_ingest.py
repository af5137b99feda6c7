#!/usr/bin/env python3
"""Ingest throughput, mieruka beside DuckDB and Polars, on one generated file in one run.

    python3 -m venv benches/.venv && benches/.venv/bin/pip install duckdb polars
    cargo build --release
    benches/.venv/bin/python benches/compare_ingest.py [--docs 200000] [--runs 5]

Generates PACT v2.3 + GxD NDJSON with `mieruka gen`, then times, on the same file:
  mieruka    `mieruka ingest --dry-run`: every field validated (types, decimals exactly,
             enums, URNs, UUIDs, dates, ranges, cross-field rules) into Arrow record batches
  duckdb     CREATE TABLE … AS SELECT * FROM read_json(…): schema inferred, nothing validated
  polars     pl.read_ndjson(…): schema inferred, nothing validated
Each is run --runs times; the median wall time and MB/s (file MB / median s) are printed as
a Markdown table for BENCHMARKS.md. Everything uses all cores.
"""

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(fn, runs):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), times


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=200_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--bin", default=str(ROOT / "target/release/mieruka"))
    args = ap.parse_args()

    import duckdb
    import polars as pl

    out = ROOT / "benches/out" / f"ingest-{args.docs}"
    ndjson = out / "footprints.ndjson"
    if not ndjson.exists():
        subprocess.run([args.bin, "gen", "--nodes", str(args.docs), "--tiers", "5", "--fanout", "4",
                        "--seed", "42", "--out", str(out)], check=True)
    size_mb = ndjson.stat().st_size / 1e6

    def run_mieruka():
        subprocess.run([args.bin, "ingest", "--dry-run", "--max-document-size", "1GiB", str(ndjson)],
                       check=True, stdout=subprocess.DEVNULL)

    def run_duckdb():
        con = duckdb.connect()
        con.execute(f"CREATE TABLE t AS SELECT * FROM read_json('{ndjson}', format='newline_delimited')")
        n = con.execute("SELECT count(*) FROM t").fetchone()[0]
        assert n == args.docs, n
        con.close()

    def run_polars():
        df = pl.read_ndjson(ndjson)
        assert df.height == args.docs, df.height

    rows = []
    for name, fn in [("mieruka ingest --dry-run (validate → Arrow)", run_mieruka),
                     (f"DuckDB {duckdb.__version__} read_json", run_duckdb),
                     (f"Polars {pl.__version__} read_ndjson", run_polars)]:
        fn()  # warm the page cache and the engines
        med, all_runs = timed(fn, args.runs)
        rows.append((name, med, size_mb / med, all_runs))

    print(f"\n{args.docs} documents, {size_mb:.1f} MB; {os.cpu_count()} cores; {platform.platform()}; "
          f"median of {args.runs} runs\n")
    print("| engine | median s | MB/s | ratio to mieruka |")
    print("|---|---:|---:|---:|")
    base = rows[0][1]
    for name, med, mbs, _ in rows:
        print(f"| {name} | {med:.3f} | {mbs:.0f} | {med / base:.2f}× |")
    for name, _, _, all_runs in rows:
        print(f"<!-- {name}: {', '.join(f'{t:.3f}' for t in all_runs)} -->", file=sys.stderr)


if __name__ == "__main__":
    main()
