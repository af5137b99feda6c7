"""How long `mieruka serve --data DIR` takes to answer, for two or more builds, alternated.

    python3 -m venv benches/.venv
    benches/.venv/bin/python benches/serve_start.py --data DIR --rounds 3 BINARY...

Each line: the binary, the seconds from its start until `GET /healthz` answers (what a user
waits for before the first page), and the process's peak RSS two seconds after that
(`VmHWM`: the most it held, loading included). The builds go in turn, their order reversed
every other round; quote the medians.
"""

import argparse
import statistics
import time

from compare_user_path import start_server


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="the data directory every build serves")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("binaries", nargs="+")
    args = p.parse_args()
    seen = {b: [] for b in args.binaries}
    for r in range(args.rounds):
        order = args.binaries if r % 2 == 0 else args.binaries[::-1]
        for b in order:
            server, _, secs = start_server(b, args.data)
            time.sleep(2)
            rss = peak_rss_mib(server.pid)
            server.terminate()
            server.wait()
            seen[b].append((secs, rss))
            print(f"{b} {secs:.3f} s {rss:,.0f} MiB", flush=True)
    for b, runs in seen.items():
        secs = statistics.median(s for s, _ in runs)
        rss = statistics.median(m for _, m in runs)
        print(f"median {b}: {secs:.3f} s, {rss:,.0f} MiB")


if __name__ == "__main__":
    main()
