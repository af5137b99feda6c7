#!/usr/bin/env python3
"""Every bundled dashboard's first view from `mieruka serve`, for one or more builds on one data
directory: a new server per build, each page asked once (the server keeps a page it has
answered, so only the first view is timed), as a reader opening it without parameters.

    cargo build --release
    cp target/release/mieruka /tmp/mieruka-before   # a build of the commit before, and so on
    python3 benches/dashboards.py --data benches/out/user-1002000/gx /tmp/mieruka-before target/release/mieruka

`--then PAGE?PARAMS` (repeatable) asks more views after the first ones, as a reader who
changes the page's parameters (each a new question: `hotspots?product=…`, `ranking?by=intensity`).

Each line: the build, the page, the HTTP status, the page's bytes and the seconds to its last
byte (a 408 is the server's own request timeout). No peer serves these pages; the comparison
is with the build before.
"""

import argparse
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare_user_path import ROOT, start_server  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--then", action="append", default=[], metavar="PAGE?PARAMS")
    ap.add_argument("bins", nargs="+")
    args = ap.parse_args()
    pages = sorted(p.stem for p in (ROOT / "dashboards").glob("*.toml") if p.stem != "words")
    for b in args.bins:
        server, base, _ = start_server(b, args.data)
        try:
            for page in pages + args.then:
                t = time.perf_counter()
                try:
                    r = urllib.request.urlopen(f"{base}/dashboards/{page}", timeout=args.timeout)
                    status, size = r.status, len(r.read())
                except urllib.error.HTTPError as e:
                    status, size = e.code, len(e.read())
                print(f"{b} /dashboards/{page}: {status}, {size:,} bytes, "
                      f"{time.perf_counter() - t:.2f} s", flush=True)
        finally:
            server.terminate()
            server.wait(timeout=60)


if __name__ == "__main__":
    main()
