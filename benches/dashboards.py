#!/usr/bin/env python3
"""Every bundled dashboard's first view from `mieruka serve`, for one or more builds on one data
directory: a new server per build, each page asked once (the server keeps a page it has
answered, so only the first view is timed), as a reader opening it without parameters.

    cargo build --release
    cp target/release/mieruka /tmp/mieruka-before   # a build of the commit before, and so on
    python3 benches/dashboards.py --data benches/out/user-1002000/gx /tmp/mieruka-before target/release/mieruka

Each line: the build, the page, the HTTP status, the page's bytes and the seconds to its last
byte (a 408 is the server's own request timeout). No peer serves these pages; the comparison
is with the build before.
"""

import argparse
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("bins", nargs="+")
    args = ap.parse_args()
    pages = sorted(p.stem for p in (ROOT / "dashboards").glob("*.toml") if p.stem != "words")
    for b in args.bins:
        port = free_port()
        server = subprocess.Popen([b, "serve", "--data", args.data, "--bind", f"127.0.0.1:{port}"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            base = f"http://127.0.0.1:{port}"
            t = time.perf_counter()
            while True:
                try:
                    urllib.request.urlopen(base + "/healthz", timeout=1).read()
                    break
                except OSError:
                    if time.perf_counter() - t > 600:
                        raise SystemExit("server did not start")
                    time.sleep(0.05)
            for page in pages:
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
