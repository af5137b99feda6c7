#!/usr/bin/env python3
"""GX scoring of 1,000,000 products: mieruka beside a Polars implementation of the same
weighted sum, on the same generated inputs, in one run.

    python3 -m venv benches/.venv && benches/.venv/bin/pip install polars
    cargo bench --bench score --no-run
    benches/.venv/bin/python benches/compare_score.py [--runs 5]

The inputs (benches/score.rs): 12 indicators of the default profile gxd-2025 plus the primary
data share, five CPC categories, about 10 % of yes/no facts and a third of numbers missing.
Polars applies the same rules (present, at_least, at_most, linear, reduction, the 4521 and
4642 CFP overrides) in f64; mieruka exactly (fixed-point integer columns, each score rounded
once at six places) on both cores. Both totals are printed.
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


def bench_binary():
    c = [p for p in glob.glob(str(ROOT / "target/release/deps/score-*")) if os.access(p, os.X_OK) and not p.endswith(".d")]
    if not c:
        raise SystemExit("run `cargo bench --bench score --no-run` first")
    return max(c, key=os.path.getmtime)


def polars_score(pl, df):
    def flag(col, w):
        return pl.when(pl.col(col)).then(w).otherwise(0.0).fill_null(0.0)

    def linear(col, w, zero, full):
        return (((pl.col(col) - zero) / (full - zero)).clip(0.0, 1.0) * w).fill_null(0.0)

    cfp_threshold = (pl.when(pl.col("cpc").str.starts_with("4521")).then(200.0)
                     .when(pl.col("cpc").str.starts_with("4642")).then(8.0)
                     .otherwise(250.0))
    score = (flag("national_target_contribution", 8) + flag("support_measures", 7)
             + flag("gx_declaration", 8) + flag("progress_disclosed", 7)
             + flag("publicly_disclosed", 7) + flag("certified", 8)
             + pl.when(pl.col("cfp") <= cfp_threshold).then(15.0).otherwise(0.0).fill_null(0.0)
             + pl.when(pl.col("rep") >= 5).then(10.0).otherwise(0.0).fill_null(0.0)
             + pl.when(pl.col("aep") >= 0.001).then(8.0).otherwise(0.0).fill_null(0.0)
             + linear("circular_outflow", 8, 0, 50) + linear("circular_inflow", 8, 0, 30)
             + flag("additionality", 6))
    return df.select(score.alias("gx_score"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    import polars as pl

    out = ROOT / "benches/out/score"
    res = subprocess.run([bench_binary()], env=dict(os.environ, MIERUKA_COMPARE=str(out)),
                         check=True, capture_output=True, text=True)
    m = json.loads(res.stdout.strip().splitlines()[-1])
    df = pl.read_csv(out / "score-inputs.csv", schema_overrides={"cpc": pl.Utf8})
    polars_score(pl, df)
    times = []
    for _ in range(args.runs):
        t = time.perf_counter()
        r = polars_score(pl, df)
        times.append(time.perf_counter() - t)
    total = float(r["gx_score"].sum())
    print(f"\n{m['products']} products; {os.cpu_count()} cores; {platform.platform()}; "
          f"median of 15 (mieruka) and {args.runs} (Polars) runs\n")
    print("| engine | median ms | Σ GX score |")
    print("|---|---:|---:|")
    print(f"| mieruka score (exact, 2 threads) | {m['median_ms']:.1f} | {m['total_gx_score']} |")
    print(f"| Polars {pl.__version__} expressions (f64) | {statistics.median(times) * 1000:.1f} | {total:.6f} |")
    print(f"<!-- mieruka: {', '.join(f'{t:.1f}' for t in m['runs_ms'])} ms -->")
    print(f"<!-- Polars: {', '.join(f'{t * 1000:.1f}' for t in times)} ms -->")


if __name__ == "__main__":
    main()
