#!/usr/bin/env python3
"""The cold question alone, several binaries beside DuckDB, interleaved run by run.

    benches/.venv/bin/python benches/compare_cold_question.py [--runs 9] BIN [BIN …]

Uses the 1M-footprint store and DuckDB file that compare_user_path.py leaves in
benches/out/user-1002000/ (run it once first). Each round runs every binary's
`hotspots --data gx --product urn:mieruka:gen:7:0 --format json > answer.json`, then the
DuckDB process, so a slow minute of this machine hits all of them alike; prints each one's
runs, median and DuckDB ÷ median. For comparing a change with the binary before it (copy
target/release/mieruka aside before rebuilding).
"""

import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare_hotspot import LEVELS_SQL  # noqa: E402
from compare_user_path import DUCK_QUESTION, ROOT_PRODUCT, interleaved_setup, run  # noqa: E402


def main():
    args, out = interleaved_setup(9)
    times = {b: [] for b in args.bins}
    duck = []
    for _ in range(args.runs):
        for b in args.bins:
            with open(out / "answer.json", "wb") as answer:
                cmd = [b, "hotspots", "--data", str(out / "gx"), "--product", ROOT_PRODUCT,
                       "--format", "json"]
                times[b].append(run(cmd, stdout=answer)[0])
        cmd = [sys.executable, "-c", DUCK_QUESTION, str(out / "duck.db"), LEVELS_SQL, ROOT_PRODUCT]
        duck.append(run(cmd, stdout=subprocess.PIPE)[0])
    d = statistics.median(duck)
    print(f"DuckDB: median {d:.3f} s; runs {', '.join(f'{t:.3f}' for t in duck)}")
    for b, ts in times.items():
        m = statistics.median(ts)
        print(f"{b}: median {m:.3f} s, DuckDB ÷ it {d / m:.2f}; runs {', '.join(f'{t:.3f}' for t in ts)}")


if __name__ == "__main__":
    main()
