#!/usr/bin/env python3
"""Two or more mieruka builds serving one data directory, alternated: the warm `/api/hotspots`
requests of compare_user_path.py (the same root, different parameters on every request, so no
answer is kept), a new server per build and round.

    python3 -m venv benches/.venv && benches/.venv/bin/pip install duckdb
    cp target/release/mieruka /tmp/mieruka-before   # a build of the commit before, and so on
    benches/.venv/bin/python benches/ab_api.py --data benches/out/user-1002000/gx \\
        --rounds 4 /tmp/mieruka-before target/release/mieruka

With `--other-root URN`, each server is first asked about that product too, as a server
asked about more than one product is. With `--gzip`, every request asks for gzip, as a browser
does.

Each line: the build, the round, the median of the top=20 requests (ms) with every one of them,
and the median of the full answers (every item). The builds go in turn, their order reversed
every other round. Quote medians over the rounds, and the rounds' spread, never one request.
"""

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare_user_path import warm_api  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True, help="a data directory holding urn:mieruka:gen:7:0")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--runs", type=int, default=5, help="as compare_user_path.py: 4×runs top=20 requests")
    ap.add_argument("--other-root", metavar="URN",
                    help="ask about this product once first, as a server asked about more than one "
                         "(e.g. urn:mieruka:gen:7:5): the whole graph is then resolved and kept")
    ap.add_argument("--gzip", action="store_true",
                    help="ask for gzip, as a browser does (the timed body is the compressed one)")
    ap.add_argument("bins", nargs="+")
    args = ap.parse_args()
    medians = {b: [] for b in args.bins}
    for r in range(1, args.rounds + 1):
        order = args.bins if r % 2 else list(reversed(args.bins))
        for b in order:
            _, first, median, times, rss, _, full = warm_api(b, args.data, args.runs, args.other_root, args.gzip)
            medians[b].append(median * 1e3)
            print(f"{b} round {r}: top=20 median {median * 1e3:.1f} ms "
                  f"({', '.join(f'{t * 1e3:.1f}' for t in times)}); first {first * 1e3:.0f} ms; "
                  f"every item {full * 1e3:.0f} ms; peak RSS {rss:.0f} MiB", flush=True)
    for b, m in medians.items():
        print(f"{b}: medians {', '.join(f'{x:.1f}' for x in m)}; their median {statistics.median(m):.1f} ms")


if __name__ == "__main__":
    main()
