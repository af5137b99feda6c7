#!/usr/bin/env python3
"""One-root hotspot decomposition: mieruka's native engine beside DuckDB and Polars, on one
generated graph, in one run.

    python3 -m venv benches/.venv && benches/.venv/bin/pip install duckdb polars
    cargo build --release && cargo bench --bench hotspot --no-run
    benches/.venv/bin/python benches/compare_hotspot.py [--nodes 1002000] [--runs 5]

The graph: `mieruka gen --graph-only` with 7 tiers, fan-out 10, 22 % black boxes and
nodes/500 roots (1,002,000 nodes give about 6.5M edges), the same options as
benches/hotspot.rs. Each engine loads it first (not timed), then decomposes root 0 into
items per (node, tier, kind) --runs times (mieruka exactly, the peers in f64):

  mieruka        the native level-by-level walk (`hotspot::decompose_raw`, exact fixed point), one thread
  duckdb paths   a recursive CTE that enumerates every path, then sums x per (node, tier)
  duckdb levels  a recursive CTE that sums x per (node, tier) inside the recursion
  polars         level-by-level joins and group-bys in a Python loop

Every engine's items must add up to the root's CFP; the script checks that and prints a
Markdown table of medians for BENCHMARKS.md.
"""

import argparse
import glob
import json
import os
import platform
import statistics
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_TIER = 10


def bench_binary():
    candidates = [p for p in glob.glob(str(ROOT / "target/release/deps/hotspot-*"))
                  if os.access(p, os.X_OK) and not p.endswith(".d")]
    if not candidates:
        raise SystemExit("run `cargo bench --bench hotspot --no-run` first")
    return max(candidates, key=os.path.getmtime)


def timed(fn, runs):
    out, times = None, []
    for _ in range(runs):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), times, out


ITEMS_SQL = """
reached AS (SELECT node, tier, sum(x) AS x FROM walk GROUP BY node, tier),
expanded AS (
    SELECT r.node, r.tier, r.x, n.cfp, n.g2g FROM reached r JOIN nodes n ON n.product_id = r.node
    WHERE r.tier <= {max_tier} AND n.g2g IS NOT NULL
),
gaps AS (
    SELECT x.node, x.tier, x.x * x.cfp - x.x * x.g2g - coalesce(sum(x.x * b.amount * c.cfp), 0) AS v
    FROM expanded x
    LEFT JOIN bom b ON b.parent_product_id = x.node
    LEFT JOIN nodes c ON c.product_id = b.child_product_id
    GROUP BY x.node, x.tier, x.x, x.cfp, x.g2g
),
items AS (
    SELECT tier, node, 'own' AS kind, x * g2g AS v FROM expanded
    UNION ALL
    SELECT tier, node, CASE WHEN v > 0 THEN 'untraced' ELSE 'mismatch' END, v FROM gaps
    UNION ALL
    SELECT r.tier, r.node, 'unresolved', r.x * n.cfp FROM reached r JOIN nodes n ON n.product_id = r.node
    WHERE r.tier <= {max_tier} AND n.g2g IS NULL
    UNION ALL
    SELECT r.tier, r.node, 'beyond_cutoff', r.x * n.cfp FROM reached r JOIN nodes n ON n.product_id = r.node
    WHERE r.tier > {max_tier}
)
SELECT count(*) AS items, sum(v) AS total FROM items WHERE v <> 0
""".format(max_tier=MAX_TIER)

PATHS_SQL = """
WITH RECURSIVE walk(node, tier, x) AS (
    SELECT product_id, 0, 1.0::DOUBLE FROM nodes WHERE product_id = $root
    UNION ALL
    SELECT b.child_product_id, w.tier + 1, w.x * b.amount
    FROM walk w
    JOIN nodes n ON n.product_id = w.node
    JOIN bom b ON b.parent_product_id = w.node
    WHERE w.tier <= {max_tier} AND n.g2g IS NOT NULL
),
""".format(max_tier=MAX_TIER) + ITEMS_SQL

LEVELS_SQL = """
WITH RECURSIVE walk(node, tier, x) AS (
    SELECT product_id, 0, 1.0::DOUBLE FROM nodes WHERE product_id = $root
    UNION ALL
    SELECT b.child_product_id, any_value(w.tier) + 1, sum(w.x * b.amount)
    FROM walk w
    JOIN nodes n ON n.product_id = w.node
    JOIN bom b ON b.parent_product_id = w.node
    WHERE w.tier <= {max_tier} AND n.g2g IS NOT NULL
    GROUP BY b.child_product_id
),
""".format(max_tier=MAX_TIER) + ITEMS_SQL


def polars_decompose(pl, nodes, bom, root):
    frontier = pl.DataFrame({"node": [root], "x": [1.0]})
    count, total = 0, 0.0
    for tier in range(MAX_TIER + 2):
        if frontier.height == 0:
            break
        f = frontier.join(nodes, left_on="node", right_on="product_id")
        if tier > MAX_TIER:
            v = (f["x"] * f["cfp"])
            count += int((v != 0).sum()); total += float(v.sum())
            break
        boxes = f.filter(pl.col("g2g").is_null())
        v = boxes["x"] * boxes["cfp"]
        count += int((v != 0).sum()); total += float(v.sum())
        exp = f.filter(pl.col("g2g").is_not_null())
        own = exp["x"] * exp["g2g"]
        count += int((own != 0).sum()); total += float(own.sum())
        edges = (exp.select(["node", "x"])
                 .join(bom, left_on="node", right_on="parent_product_id")
                 .join(nodes.select(pl.col("product_id").alias("child_product_id"), pl.col("cfp").alias("ccfp")),
                       on="child_product_id"))
        up = edges.group_by("node").agg((pl.col("x") * pl.col("amount") * pl.col("ccfp")).sum().alias("up"))
        gaps = (exp.join(up, on="node", how="left")
                .with_columns((pl.col("x") * pl.col("cfp") - pl.col("x") * pl.col("g2g")
                               - pl.col("up").fill_null(0.0)).alias("gap")))
        g = gaps["gap"]
        count += int((g != 0).sum()); total += float(g.sum())
        frontier = (edges.group_by("child_product_id")
                    .agg((pl.col("x") * pl.col("amount")).sum().alias("x"))
                    .rename({"child_product_id": "node"}))
    return count, total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=1_002_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--bin", default=str(ROOT / "target/release/mieruka"))
    args = ap.parse_args()

    import duckdb
    import polars as pl

    n = args.nodes
    out = ROOT / "benches/out" / f"hotspot-{n}"
    if not (out / "nodes.csv").exists():
        subprocess.run([args.bin, "gen", "--graph-only", "--nodes", str(n), "--tiers", "7", "--fanout", "10",
                        "--seed", "7", "--roots", str(max(n // 500, 1)), "--black-box-pct", "22",
                        "--out", str(out)], check=True)
    root = "urn:mieruka:gen:7:0"

    # mieruka: the bench binary regenerates the same graph in process and times root 0.
    env = dict(os.environ, MIERUKA_COMPARE=str(n))
    res = subprocess.run([bench_binary()], env=env, check=True, capture_output=True, text=True)
    m = json.loads(res.stdout.strip().splitlines()[-1])
    mieruka_runs = [t / 1000 for t in m["runs_ms"]]
    rows = [("mieruka native walk (exact fixed point, 1 thread)", statistics.median(mieruka_runs), mieruka_runs,
             (m["items"], m["total_kgco2e"]))]

    con = duckdb.connect()
    t = time.perf_counter()
    con.execute(f"""CREATE TABLE nodes AS SELECT product_id, tier, cfp_kgco2e_per_unit::DOUBLE AS cfp,
                    g2g_kgco2e_per_unit::DOUBLE AS g2g FROM read_csv('{out}/nodes.csv')""")
    con.execute(f"""CREATE TABLE bom AS SELECT parent_product_id, child_product_id, amount::DOUBLE AS amount
                    FROM read_csv('{out}/bom.csv', types={{'unit': 'VARCHAR'}})""")
    duck_load = time.perf_counter() - t
    for name, sql in [(f"DuckDB {duckdb.__version__} recursive CTE, paths", PATHS_SQL),
                      (f"DuckDB {duckdb.__version__} recursive CTE, level-aggregated", LEVELS_SQL)]:
        fn = lambda: con.execute(sql, {"root": root}).fetchone()
        fn()
        med, times, r = timed(fn, args.runs)
        rows.append((name, med, times, r))

    t = time.perf_counter()
    nodes = pl.read_csv(out / "nodes.csv", schema_overrides={"g2g_kgco2e_per_unit": pl.Float64}).select(
        "product_id", pl.col("cfp_kgco2e_per_unit").alias("cfp"), pl.col("g2g_kgco2e_per_unit").alias("g2g"))
    bom = pl.read_csv(out / "bom.csv", schema_overrides={"unit": pl.Utf8}).select(
        "parent_product_id", "child_product_id", pl.col("amount").cast(pl.Float64))
    polars_load = time.perf_counter() - t
    fn = lambda: polars_decompose(pl, nodes, bom, root)
    fn()
    med, times, r = timed(fn, args.runs)
    rows.append((f"Polars {pl.__version__} level-by-level joins", med, times, r))

    expected = rows[0][3][1]
    print(f"\n{m['nodes']} nodes, {m['edges']} edges; root {root}; {os.cpu_count()} cores; "
          f"{platform.platform()}; median of {args.runs} runs (mieruka: of 15)")
    print(f"load, not timed below: mieruka graph build {m['build_ms'] / 1000:.1f} s (includes generation), "
          f"DuckDB {duck_load:.1f} s, Polars {polars_load:.1f} s\n")
    print("| engine | median ms | × mieruka | items | Σ items kgCO2e |")
    print("|---|---:|---:|---:|---:|")
    base = rows[0][1]
    for name, med, _, (count, total) in rows:
        ok = abs(total - expected) <= 1e-9 * abs(expected)
        print(f"| {name} | {med * 1000:.1f} | {med / base:.1f} | {count} | {total:.6f}{'' if ok else ' (differs!)'} |")
    for name, _, times, _ in rows:
        print(f"<!-- {name}: {', '.join(f'{t * 1000:.1f}' for t in times)} ms -->")


if __name__ == "__main__":
    main()
