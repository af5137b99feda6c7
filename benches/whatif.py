#!/usr/bin/env python3
"""What-if on the path users take: `POST /api/whatif` to a warm `mieruka serve`.

    benches/.venv/bin/python benches/whatif.py [--runs 9] [--bin target/release/mieruka]

Two servers, each started, warmed with one question, then asked --runs × 4 times with a
different scenario every time (the percentages move, so no answer is kept); median and
every run printed:
  - the demo: the bundled display-supplier scenario's one change, as a JSON body;
  - the 1M-footprint store that compare_user_path.py leaves in benches/out/user-1002000/gx,
    root urn:mieruka:gen:7:0: a scenario of 10 changes on its chain — 4 Gate-to-Gate
    reductions (footprints at tiers 1 to 4) and 2 CFP reductions (black boxes) among the
    largest items of the root's decomposition, 2 amounts scaled and 1 input replaced by a
    footprint given in the scenario (edges of the root's own inputs), 1 attribute — target
    ≤ 50 ms median.
The first what-if on a server also scores every product (once; the score and rank need
them): its time is printed apart. With --whole-graph the 1M server is first asked about a
second root, so that it resolves its whole graph (as a server answering many questions has)
before the what-ifs. No peer: no tool answers this on exchanged footprints.
"""

import argparse
import json
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare_user_path import ROOT, ROOT_PRODUCT, free_port  # noqa: E402

PC = "urn:mieruka-demo:product:kaede-note-14"


class Server:
    def __init__(self, binary, data):
        self.port = free_port()
        cmd = [binary, "serve", "--bind", f"127.0.0.1:{self.port}"]
        if data:
            cmd += ["--data", str(data)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.base = f"http://127.0.0.1:{self.port}"
        t = time.perf_counter()
        while True:
            try:
                urllib.request.urlopen(self.base + "/healthz", timeout=1).read()
                break
            except OSError:
                if time.perf_counter() - t > 600:
                    raise SystemExit("server did not start")
                time.sleep(0.05)

    def get(self, path):
        return json.loads(urllib.request.urlopen(self.base + path, timeout=600).read())

    def whatif(self, scenario):
        req = urllib.request.Request(self.base + "/api/whatif", data=json.dumps(scenario).encode(),
                                     headers={"content-type": "application/json"}, method="POST")
        t = time.perf_counter()
        try:
            body = urllib.request.urlopen(req, timeout=600).read()
        except urllib.error.HTTPError as e:
            raise SystemExit(f"what-if failed: {e.read().decode(errors='replace')}")
        return time.perf_counter() - t, json.loads(body)

    def close(self):
        self.proc.terminate()
        self.proc.wait(timeout=60)


def demo_scenario(i):
    return {"name": f"display {i}", "product": PC, "changes": [
        {"kind": "replace", "input": "urn:mieruka-demo:product:aoba-lcm-140",
         "footprint": {"cfp": f"{30 + i % 10}.5", "g2g": "3.4", "company": "Formosa Panel Corp."}}]}


def big_scenario(server, i):
    """Ten changes on the 1M root's chain, found once and kept on the server object."""
    if not hasattr(server, "picks"):
        product = urllib.request.quote(ROOT_PRODUCT, safe="")
        items = server.get(f"/api/hotspots?product={product}&top=400")["items"]
        # Footprints with a Gate-to-Gate figure (their own or untraced items) and black boxes
        # among the largest items; the root's own inputs from a one-tier decomposition.
        own = [i for i in items if i["kind"] in ("own", "untraced") and 1 <= (i["tier"] or 0) <= 4]
        boxes = [i for i in items if i["kind"] == "unresolved" and (i["tier"] or 0) >= 1]
        tier1 = server.get(f"/api/hotspots?product={product}&max_tier=1")["items"]
        inputs = [i for i in tier1 if i["tier"] == 1]
        seen = set()

        def distinct(rows, n):
            out = []
            for r in rows:
                if r["product_id"] not in seen:
                    seen.add(r["product_id"])
                    out.append(r["product_id"])
                if len(out) == n:
                    break
            return out

        server.picks = (distinct(own, 4), distinct(boxes, 2), distinct(inputs, 3))
        if [len(p) for p in server.picks] != [4, 2, 3]:
            raise SystemExit(f"the root's chain lacks footprints to change: {server.picks}")
    g2g, boxes, inputs = server.picks
    pct = 1 + i % 20
    changes = [{"kind": "reduce", "footprint": p, "pct": pct} for p in g2g]
    changes += [{"kind": "reduce", "footprint": p, "pct": pct, "of": "cfp"} for p in boxes]
    changes += [{"kind": "scale", "input": p, "factor": f"1.{pct:02d}"} for p in inputs[:2]]
    changes += [{"kind": "replace", "input": inputs[2],
                 "footprint": {"cfp": f"{pct}.25", "g2g": "0.5", "company": "Quote Co."}}]
    changes += [{"kind": "attribute", "certified": i % 2 == 0}]
    return {"name": f"ten changes {i}", "product": ROOT_PRODUCT, "changes": changes}


def measure(label, binary, data, scenario, runs, whole=False):
    server = Server(binary, data)
    try:
        if whole:
            for root in (ROOT_PRODUCT, "urn:mieruka:gen:7:1"):
                server.get(f"/api/hotspots?product={urllib.request.quote(root, safe='')}&top=5")
            time.sleep(10)  # the whole graph resolves on another thread
        first, answer = server.whatif(scenario(server, 0))
        times = [server.whatif(scenario(server, i + 1))[0] for i in range(runs * 4)]
        _, last = server.whatif(scenario(server, 1))
        print(f"{label}: median {statistics.median(times) * 1000:.1f} ms (first, scoring every product: "
              f"{first * 1000:.0f} ms); {len(scenario(server, 0)['changes'])} changes, "
              f"{last['footprints_recomputed']} footprints recomputed, {last['items']} items, CFP "
              f"{last['cfp']['before_kgco2e_per_unit']} → {last['cfp']['after_kgco2e_per_unit']}; runs "
              + ", ".join(f"{t * 1000:.1f}" for t in times))
    finally:
        server.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--bin", default=str(ROOT / "target/release/mieruka"))
    ap.add_argument("--whole-graph", action="store_true")
    args = ap.parse_args()
    if args.whole_graph:
        store = ROOT / "benches/out/user-1002000/gx"
        measure("1M store root, 10 changes, whole graph resolved", args.bin, store, big_scenario,
                args.runs, whole=True)
        return
    measure("demo notebook PC, 1 change", args.bin, None, lambda s, i: demo_scenario(i), args.runs)
    store = ROOT / "benches/out/user-1002000/gx"
    if store.exists():
        measure("1M store root, 10 changes", args.bin, store, big_scenario, args.runs)
    else:
        print(f"{store} missing: run benches/compare_user_path.py first for the 1M case")


if __name__ == "__main__":
    main()
