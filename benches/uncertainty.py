#!/usr/bin/env python3
"""How sure, on the path users take: `mieruka hotspots --uncertainty N` as a process.

    benches/.venv/bin/python benches/uncertainty.py [--runs 9] [--bin target/release/mieruka]

Two cases, each run --runs times, median and every run printed:
  - the demo's notebook PC, 10,000 samples (target: ≤ 100 ms);
  - the root urn:mieruka:gen:7:0 of the 1M-footprint store that compare_user_path.py leaves
    in benches/out/user-1002000/gx, 1,000 samples (target: ≤ 2 s on both cores).
No peer: no tool answers this question on exchanged footprints. For the second case the
decomposition alone (the same command without --uncertainty) is timed beside it, so the
Monte Carlo's own cost shows.
"""

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare_user_path import ROOT, ROOT_PRODUCT, run  # noqa: E402

PC = "urn:mieruka-demo:product:kaede-note-14"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--bin", default=str(ROOT / "target/release/mieruka"))
    args = ap.parse_args()
    store = ROOT / "benches/out/user-1002000/gx"
    cases = [
        ("demo notebook PC, 10,000 samples",
         [args.bin, "hotspots", "--product", PC, "--uncertainty", "10000", "--format", "json"]),
    ]
    if store.exists():
        cases += [
            ("1M store root, decomposition only",
             [args.bin, "hotspots", "--data", str(store), "--product", ROOT_PRODUCT, "--by", "tier"]),
            ("1M store root, 1,000 samples",
             [args.bin, "hotspots", "--data", str(store), "--product", ROOT_PRODUCT,
              "--uncertainty", "1000", "--format", "json"]),
        ]
    else:
        print(f"{store}: missing (run compare_user_path.py --nodes 1002000 first); demo only")
    times = {name: [] for name, _ in cases}
    for _ in range(args.runs):
        for name, cmd in cases:
            times[name].append(run(cmd)[0])
    for name, ts in times.items():
        print(f"{name}: median {statistics.median(ts) * 1000:.0f} ms; runs "
              + ", ".join(f"{t * 1000:.0f}" for t in ts))


if __name__ == "__main__":
    main()
