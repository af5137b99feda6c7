#!/usr/bin/env python3
"""The all-roots batch embedded and on a loopback Ballista cluster, as separate processes.

Runs `mieruka batch hotspots --roots FILE` on a data directory three ways and checks that
they wrote the same rows:

  embedded      one process, the roots split over the cores
  1 executor    `mieruka cluster scheduler` + one `mieruka cluster executor` (--slots 2)
  2 executors   the scheduler + two executors (--slots 1 each)

All processes run on this machine (loopback), so the cluster rows measure what the
distribution costs (plans, tasks, shuffle files, Flight), not what more machines give;
docs/scale-out.md projects that from the per-root cost.

  cargo build --release --features cluster
  target/release/mieruka gen --nodes 1002000 --tiers 7 --fanout 10 --roots 2004 \\
      --black-box-pct 22 --seed 7 --out benches/out/user-1002000/chain
  target/release/mieruka ingest benches/out/user-1002000/chain --data benches/out/user-1002000/gx
  benches/.venv/bin/python benches/cluster_batch.py --data benches/out/user-1002000/gx \\
      --seed 7 --roots 2004

Needs duckdb from PyPI (the comparison of the written rows).
"""

import argparse
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def wait_for(port, proc, what, timeout=120.0):
    start = time.time()
    while time.time() - start < timeout:
        if proc.poll() is not None:
            sys.exit(f"{what} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"{what}: port {port} not open after {timeout} s")


def peak_rss_mib(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def timed(cmd, log):
    """Runs cmd under /usr/bin/time -v; (wall s, peak RSS MiB)."""
    start = time.perf_counter()
    with open(log, "w") as f:
        r = subprocess.run(["/usr/bin/time", "-v", *cmd], stdout=f, stderr=subprocess.STDOUT)
    wall = time.perf_counter() - start
    text = Path(log).read_text()
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({r.returncode}):\n{text[-3000:]}")
    rss = next(
        (int(l.split()[-1]) / 1024 for l in text.splitlines() if "Maximum resident" in l),
        float("nan"),
    )
    return wall, rss


def fingerprint(out):
    """Per table: rows, and the sum of a hash of every row (the same multiset of rows, in
    any order and any files, gives the same sums)."""
    import duckdb

    con = duckdb.connect()
    prints = {}
    for table in ("items", "suppliers", "tiers"):
        cols = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM '{out}/{table}/*.parquet'").fetchall()]
        row = ", ".join(f"CAST({c} AS VARCHAR)" for c in cols)
        q = f"SELECT count(*), sum(hash({row})::HUGEINT) FROM '{out}/{table}/*.parquet'"
        prints[table] = con.execute(q).fetchall()[0]
    return prints


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="the data directory (from mieruka ingest)")
    ap.add_argument("--seed", type=int, default=7, help="the chain's gen --seed")
    ap.add_argument("--roots", type=int, default=2004, help="the chain's gen --roots")
    ap.add_argument("--partitions", type=int, default=16)
    ap.add_argument("--bin", default=str(ROOT / "target/release/mieruka"))
    ap.add_argument("--work", default=str(ROOT / "benches/out/cluster-batch"))
    ap.add_argument("--port", type=int, default=50050)
    ap.add_argument("--keep", action="store_true", help="keep the written batches")
    args = ap.parse_args()

    work = Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    roots = work / "roots.txt"
    roots.write_text("".join(f"urn:mieruka:gen:{args.seed}:{i}\n" for i in range(args.roots)))
    base = [args.bin, "batch", "hotspots", "--roots", str(roots), "--data", args.data,
            "--partitions", str(args.partitions)]
    env = dict(os.environ, RUST_LOG="warn")
    results = []

    def done(out):
        """The written batch's fingerprint and size; then it is removed unless --keep (at
        2,004 roots each batch is ~15 GB)."""
        size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
        summary = (out / "batch.json").read_text()
        prints = fingerprint(out)
        if not args.keep:
            shutil.rmtree(out, ignore_errors=True)
        return prints, size, summary

    out = work / "embedded"
    wall, rss = timed([*base, "--out", str(out)], work / "embedded.log")
    prints, size, summary = done(out)
    results.append(("embedded (one process)", wall, rss, "—", prints, size))
    print(f"embedded: {wall:.1f} s, {rss:.0f} MiB, {size / 2**30:.2f} GiB written", flush=True)

    for executors, slots in [(1, 2), (2, 1)]:
        procs = []
        try:
            sched = subprocess.Popen(
                [args.bin, "cluster", "scheduler", "--data", args.data,
                 "--bind", f"127.0.0.1:{args.port}"],
                stdout=open(work / f"scheduler-{executors}.log", "w"), stderr=subprocess.STDOUT, env=env)
            procs.append(sched)
            wait_for(args.port, sched, "the scheduler")
            for k in range(executors):
                port = args.port + 1 + 2 * k
                e = subprocess.Popen(
                    [args.bin, "cluster", "executor", "--data", args.data,
                     "--scheduler", f"127.0.0.1:{args.port}", "--bind", f"127.0.0.1:{port}",
                     "--slots", str(slots), "--work-dir", str(work / f"shuffle-{executors}-{k}")],
                    stdout=open(work / f"executor-{executors}-{k}.log", "w"), stderr=subprocess.STDOUT, env=env)
                procs.append(e)
                wait_for(port, e, f"executor {k}")
            time.sleep(2)  # the executors register with the scheduler
            out = work / f"cluster-{executors}"
            wall, rss = timed([*base, "--engine", f"ballista://127.0.0.1:{args.port}", "--out", str(out)],
                              work / f"cluster-{executors}.log")
            peaks = [peak_rss_mib(p.pid) for p in procs]
            shuffle = sum(f.stat().st_size for k in range(executors)
                          for f in (work / f"shuffle-{executors}-{k}").rglob("*") if f.is_file())
            prints, size, _ = done(out)
            results.append((f"{executors} executor{'s' if executors > 1 else ''} × {slots} slot{'s' if slots > 1 else ''}",
                            wall, rss, " / ".join(f"{p:.0f}" for p in peaks), prints, size))
            print(f"{executors} executors: {wall:.1f} s (client {rss:.0f} MiB; scheduler / executors {peaks}; "
                  f"shuffle files {shuffle / 2**20:.1f} MiB)", flush=True)
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
            for k in range(executors):
                shutil.rmtree(work / f"shuffle-{executors}-{k}", ignore_errors=True)

    prints = [r[4] for r in results]
    same = all(p == prints[0] for p in prints[1:])
    for (name, *_), p in zip(results, prints):
        print(f"{name}: {p}")
    print(f"\nbatch.json (embedded): {summary}")
    print("| run | wall s | client peak RSS MiB | scheduler / executor peak RSS MiB | Parquet written GiB |")
    print("|---|---:|---:|---|---:|")
    for name, wall, rss, peaks, _, size in results:
        print(f"| {name} | {wall:.1f} | {rss:.0f} | {peaks} | {size / 2**30:.2f} |")
    print(f"\nsame rows in items, suppliers and tiers: {'yes' if same else 'NO'}")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
