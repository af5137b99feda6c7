#!/usr/bin/env python3
"""`mieruka query footprints/by_company` at 1M footprints, beside DuckDB, run by run.

    benches/.venv/bin/python benches/compare_by_company.py [--runs 5] BIN [BIN …]

Uses the 1M-footprint store and DuckDB file that compare_user_path.py leaves in
benches/out/user-1002000/ (run it once first). Each round runs every binary's
`query --data gx footprints/by_company --format csv` (the whole answer: 317,343 companies
for the generator's seed 7), then a DuckDB process answering the same question from its own
database file (table `t`, the NDJSON as DuckDB read it: the latest version of each id, and
per company the footprints, distinct products, CFP range, mean primary data share, counts
with Gate-to-Gate and organization-based, the countries), so a slow minute hits all of them
alike. Prints each one's runs, median, peak RSS and DuckDB ÷ median, and checks that every
answer has the same number of companies as DuckDB's.
"""

import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare_user_path import interleaved_setup, run  # noqa: E402

DUCK_BY_COMPANY = """
import duckdb, sys
con = duckdb.connect(sys.argv[1], read_only=True)
con.execute("SET enable_progress_bar = false")
rows = con.execute('''
WITH latest AS (
  SELECT * FROM t
  QUALIFY row_number() OVER (PARTITION BY id ORDER BY version DESC) = 1
)
SELECT companyName, companyIds[1], count(*), count(DISTINCT productIds[1]),
  min(CAST(pcf.pCfExcludingBiogenic AS DECIMAL(38, 12))),
  max(CAST(pcf.pCfExcludingBiogenic AS DECIMAL(38, 12))),
  round(avg(pcf.primaryDataShare), 1),
  count(*) FILTER (WHERE extensions[1].data.gateToGate.gateToGateFossilGhgEmissions IS NOT NULL),
  count(*) FILTER (WHERE extensions[1].data.calcMethod = '1'),
  string_agg(DISTINCT pcf.geographyCountry, ', ' ORDER BY pcf.geographyCountry)
FROM latest GROUP BY 1, 2 ORDER BY 1, 2
''').fetchall()
print(len(rows))
"""


def main():
    args, out = interleaved_setup(5)
    times = {b: [] for b in args.bins}
    rss = {b: 0.0 for b in args.bins}
    answers = {b: set() for b in args.bins}
    duck, duck_rss, companies = [], 0.0, set()
    for _ in range(args.runs):
        for b in args.bins:
            cmd = [b, "query", "--data", str(out / "gx"), "footprints/by_company", "--format", "csv"]
            wall, peak, text = run(cmd, stdout=subprocess.PIPE)
            times[b].append(wall)
            rss[b] = max(rss[b], peak)
            # The header line, then a line per company (no field holds a line break).
            answers[b].add(text.count(b"\n") - 1)
        wall, peak, text = run([sys.executable, "-c", DUCK_BY_COMPANY, str(out / "duck.db")],
                               stdout=subprocess.PIPE)
        duck.append(wall)
        duck_rss = max(duck_rss, peak)
        companies.add(int(text))
    for b, seen in answers.items():
        if seen != companies:
            sys.exit(f"{b}: {sorted(seen)} companies, DuckDB {sorted(companies)}")
    d = statistics.median(duck)
    print(f"DuckDB: median {d:.3f} s, peak RSS {duck_rss:.0f} MiB, {companies.pop()} companies; "
          f"runs {', '.join(f'{t:.3f}' for t in duck)}")
    for b, ts in times.items():
        m = statistics.median(ts)
        print(f"{b}: median {m:.3f} s, peak RSS {rss[b]:.0f} MiB, DuckDB ÷ it {d / m:.2f}; "
              f"runs {', '.join(f'{t:.3f}' for t in ts)}")


if __name__ == "__main__":
    main()
