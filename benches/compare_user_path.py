#!/usr/bin/env python3
"""The path users take, timed end to end beside DuckDB doing the same job from its own files.

    python3 -m venv benches/.venv && benches/.venv/bin/pip install duckdb
    cargo build --release
    benches/.venv/bin/python benches/compare_user_path.py --nodes 10020 100200 1002000 [--runs 5]

For each size, a chain from `mieruka gen` (7 tiers, fan-out 10, 22 % black boxes, nodes/500
roots, seed 7: the options of the 1M-footprint store in BENCHMARKS.md) is written once under
benches/out/user-N/, then, in one run:

  ingest     `mieruka ingest chain --data gx` (a fresh directory) | DuckDB
             `CREATE TABLE t AS SELECT * FROM read_json('footprints.ndjson')` into a database
             file (plus the BOM CSV and the node/edge tables its decomposition reads),
             wall time and peak RSS of the process
  question   a cold `mieruka hotspots --data gx --product urn:mieruka:gen:7:0 --format json
             > answer.json` process (the answer into a file, as a user keeps it) | a Python
             process that opens the DuckDB file read-only and runs the same decomposition
             as a level-aggregated recursive CTE (DOUBLE arithmetic); wall time of each
             process and its peak RSS (DuckDB's figure without the interpreter start is
             printed beside it)
  summary    a cold `mieruka query --data gx footprints/summary` process
  warm API   `mieruka serve --data gx` on loopback, then `GET /api/hotspots` for the same root
             with different parameters on every request (max_tier 10, 9, 8, … and
             min_share 0 / 0.0001 %, top=20: what a dashboard asks), so no answer is
             kept; median wall time per request; and the full answer (every item) beside it

Every timing is a median of --runs (first runs included: the chain is read once before the
ingests and the page cache is warm for both engines alike; the ingests' writes are synced to
disk before the questions, and the two engines' questions take turns). Prints Markdown rows
for BENCHMARKS.md.
"""

import argparse
import gzip
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROOT_PRODUCT = "urn:mieruka:gen:7:0"

DUCK_INGEST = """
import duckdb, sys
db, chain = sys.argv[1], sys.argv[2]
con = duckdb.connect(db)
con.execute(f"CREATE TABLE t AS SELECT * FROM read_json('{chain}/footprints.ndjson')")
con.execute(f"CREATE TABLE bom_raw AS SELECT * FROM read_csv('{chain}/bom.csv', types={{'unit': 'VARCHAR'}})")
con.execute('''CREATE TABLE nodes AS SELECT productIds[1] AS product_id,
    pcf.pCfExcludingBiogenic::DOUBLE AS cfp,
    extensions[1].data.gateToGate.gateToGateFossilGhgEmissions::DOUBLE AS g2g FROM t''')
con.execute('''CREATE TABLE bom AS SELECT parent_product_id, child_product_id, amount::DOUBLE AS amount
    FROM bom_raw''')
con.close()
"""

DUCK_QUESTION = """
import duckdb, sys, time, json
t = time.perf_counter()
con = duckdb.connect(sys.argv[1], read_only=True)
r = con.execute(sys.argv[2], {"root": sys.argv[3]}).fetchone()
print(json.dumps({"inner_s": time.perf_counter() - t, "items": r[0], "total": r[1]}))
"""

# The same level-aggregated decomposition compare_hotspot.py runs, over the same two tables.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare_hotspot import LEVELS_SQL  # noqa: E402


def run(cmd, stdout=subprocess.DEVNULL):
    """Runs cmd; returns (wall seconds, peak RSS MiB, stdout bytes or None). stdout may be a
    Path: the output goes into that file, as `cmd > file` would put it, and is read back."""
    to_file = isinstance(stdout, Path)
    sink = open(stdout, "wb") if to_file else stdout
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.PIPE)
    out = p.stdout.read() if stdout == subprocess.PIPE else None
    err = p.stderr.read()
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    if to_file:
        sink.close()
        out = stdout.read_bytes()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{cmd[0]} failed: {err.decode(errors='replace')[-2000:]}")
    return wall, usage.ru_maxrss / 1024, out


def interleaved_setup(runs):
    """The arguments of a script comparing binaries run by run beside DuckDB (`--runs`, the
    binaries), and the 1M store and DuckDB file this script leaves in
    benches/out/user-1002000/; exits saying how to make them when they are missing."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=runs)
    ap.add_argument("bins", nargs="+")
    args = ap.parse_args()
    out = ROOT / "benches/out/user-1002000"
    if not (out / "gx").exists() or not (out / "duck.db").exists():
        sys.exit(f"{out}: run compare_user_path.py --nodes 1002000 first")
    return args, out


def median_run(cmd, runs, stdout=subprocess.DEVNULL):
    results = [run(cmd, stdout) for _ in range(runs)]
    walls = [r[0] for r in results]
    return statistics.median(walls), max(r[1] for r in results), results[-1][2], walls


def interleaved(jobs, runs):
    """`median_run` of each (cmd, stdout) in `jobs`, the jobs taking turns run by run."""
    results = [[] for _ in jobs]
    for _ in range(runs):
        for (cmd, stdout), rs in zip(jobs, results):
            rs.append(run(cmd, stdout))
    return [(statistics.median(r[0] for r in rs), max(r[1] for r in rs), rs[-1][2], [r[0] for r in rs])
            for rs in results]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(binary, data):
    """`binary serve --data data` on a free loopback port, once it answers /healthz: the
    process, its base URL and the seconds it took to answer."""
    port = free_port()
    server = subprocess.Popen([binary, "serve", "--data", str(data), "--bind", f"127.0.0.1:{port}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    t = time.perf_counter()
    while True:
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1).read()
            return server, base, time.perf_counter() - t
        except OSError:
            if time.perf_counter() - t > 600 or server.poll() is not None:
                server.kill()
                raise SystemExit("server did not start")
            time.sleep(0.05)


def warm_api(binary, data, runs, other_root=None, gzip_=False):
    """`other_root`: before the timed requests, the root and then this product are asked about
    once each, and the server is given 15 s to resolve the whole graph on another thread (as a
    server asked about more than one product does); "first" is then the root's first request
    after that. `gzip_`: ask for gzip, as a browser does (the time is the compressed body's;
    it is read back afterwards)."""
    server, base, start_s = start_server(binary, data)
    try:
        product = urllib.request.quote(ROOT_PRODUCT, safe="")
        headers = {"Accept-Encoding": "gzip"} if gzip_ else {}

        def get(params, of=product):
            req = urllib.request.Request(f"{base}/api/hotspots?product={of}&{params}", headers=headers)
            t = time.perf_counter()
            with urllib.request.urlopen(req, timeout=600) as resp:
                body = resp.read()
                took = time.perf_counter() - t
                if resp.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
            return took, body

        if other_root:
            get("max_tier=10", of=product)
            get("top=20", of=urllib.request.quote(other_root, safe=""))
            time.sleep(15)
        first, body = get("max_tier=10")
        cfp = json.loads(body)["cfp_kgco2e_per_unit"]
        # The headline asks what a dashboard asks: the 20 largest items plus the rest, the
        # findings and the quality. The full answer (every item) is timed beside it.
        times = []
        for i in range(runs * 4):
            params = f"max_tier={10 - i % 8}&min_share={0 if i % 2 == 0 else 0.0001}&top=20"
            times.append(get(params)[0])
        full = []
        for i in range(runs):
            params = f"max_tier={10 - i % 8}&min_share={0.0001 if i % 2 == 0 else 0}"
            full.append(get(params)[0])
        rss = 0
        with open(f"/proc/{server.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    rss = int(line.split()[1]) / 1024
        return start_s, first, statistics.median(times), times, rss, cfp, statistics.median(full)
    finally:
        server.terminate()
        server.wait(timeout=60)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, nargs="+", default=[10_020, 100_200, 1_002_000])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--bin", default=str(ROOT / "target/release/mieruka"))
    ap.add_argument("--skip-api", action="store_true")
    args = ap.parse_args()
    import duckdb

    rows = []
    for n in args.nodes:
        out = ROOT / "benches/out" / f"user-{n}"
        chain = out / "chain"
        if not (chain / "footprints.ndjson").exists():
            subprocess.run([args.bin, "gen", "--nodes", str(n), "--tiers", "7", "--fanout", "10",
                            "--roots", str(max(n // 500, 1)), "--black-box-pct", "22", "--seed", "7",
                            "--out", str(chain)], check=True, stdout=subprocess.DEVNULL)
        size_mb = (chain / "footprints.ndjson").stat().st_size / 1e6
        gx, db = out / "gx", out / "duck.db"

        # Ingest: once each (a fresh directory / database file every time would double the
        # run time at 1M; the figures are single runs, marked so). The chain's files are read
        # through once first: mieruka's ingest runs first, and a chain pushed out of the page
        # cache (by a larger run before) would be read from disk by it and from memory by
        # DuckDB's.
        for f in sorted(chain.iterdir()):
            with open(f, "rb") as fh:
                while fh.read(1 << 24):
                    pass
        shutil.rmtree(gx, ignore_errors=True)
        m_ingest = run([args.bin, "ingest", str(chain), "--data", str(gx)])
        if db.exists():
            db.unlink()
        d_ingest = run([sys.executable, "-c", DUCK_INGEST, str(db), str(chain)])
        # The ingests leave gigabytes of dirty pages: written out now, so that the kernel's
        # writeback does not run beside the questions (it ran beside mieruka's, which come
        # first, more than beside DuckDB's).
        os.sync()

        q_cmd = [args.bin, "hotspots", "--data", str(gx), "--product", ROOT_PRODUCT, "--format", "json"]
        d_cmd = [sys.executable, "-c", DUCK_QUESTION, str(db), LEVELS_SQL, ROOT_PRODUCT]
        # The two questions in turn, run by run: one after the other, mieruka's came first
        # after the ingests and met the slow minutes that follow them alone.
        m_q, d_q = interleaved([(q_cmd, out / "answer.json"), (d_cmd, subprocess.PIPE)], args.runs)
        m_cfp = json.loads(m_q[2])["cfp_kgco2e_per_unit"]
        d_res = json.loads(d_q[2])
        d_inner = statistics.median([json.loads(run(d_cmd, subprocess.PIPE)[2])["inner_s"]
                                     for _ in range(args.runs)])
        s = median_run([args.bin, "query", "--data", str(gx), "footprints/summary"], args.runs)
        api = None if args.skip_api else warm_api(args.bin, gx, args.runs)
        rows.append((n, size_mb, m_ingest, d_ingest, m_q, d_q, d_inner, d_res, m_cfp, s, api))

    print(f"\n{platform.platform()}; {os.cpu_count()} cores; DuckDB {duckdb.__version__}; "
          f"median of {args.runs} (ingest: one run each)\n")
    print("| footprints | NDJSON MB | mieruka ingest s (MB/s, peak RSS MiB) | DuckDB ingest s (MB/s, peak RSS MiB) "
          "| cold `hotspots` process s (RSS MiB) | DuckDB process s (in-process s, RSS MiB) | DuckDB ÷ mieruka "
          "| `query footprints/summary` s | serve start s | warm `/api/hotspots` top=20 median ms (first) | every item ms |")
    print("|---:|---:|---|---|---|---|---:|---:|---:|---|---:|")
    for n, mb, mi, di, mq, dq, dinner, dres, mcfp, s, api in rows:
        api_s = "–" if api is None else f"{api[0]:.1f}"
        api_q = "–" if api is None else f"{api[2] * 1000:.1f} ({api[1] * 1000:.0f})"
        api_full = "–" if api is None else f"{api[6] * 1000:.0f}"
        print(f"| {n:,} | {mb:.0f} | {mi[0]:.1f} ({mb / mi[0]:.0f}, {mi[1]:.0f}) | {di[0]:.1f} ({mb / di[0]:.0f}, {di[1]:.0f}) "
              f"| {mq[0]:.3f} ({mq[1]:.0f}) | {dq[0]:.3f} ({dinner:.3f}, {dq[1]:.0f}) | {dq[0] / mq[0]:.1f} "
              f"| {s[0]:.3f} | {api_s} | {api_q} | {api_full} |")
    for n, mb, mi, di, mq, dq, dinner, dres, mcfp, s, api in rows:
        print(f"<!-- {n}: mieruka CFP {mcfp}, DuckDB items {dres['items']} total {dres['total']}; "
              f"hotspots runs {', '.join(f'{t:.3f}' for t in mq[3])}; duckdb runs {', '.join(f'{t:.3f}' for t in dq[3])}"
              + ("" if api is None else f"; api runs {', '.join(f'{t * 1000:.1f}' for t in api[3])} ms; server peak RSS {api[4]:.0f} MiB")
              + " -->")


if __name__ == "__main__":
    main()
