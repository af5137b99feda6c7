-- title: Hotspot Pareto, with how sure each bar is
-- description: The Pareto of footprints (hotspot/pareto: the top $n by contribution, then "(rest)",
-- description: with the cumulative share) and each bar's 95 % interval from the Monte Carlo of
-- description: `mieruka hotspots --uncertainty` ($samples samples, seed $seed): low_kgco2e and
-- description: high_kgco2e are the 2.5th and 97.5th percentiles of what the footprint gives.
-- param: product text ; Footprint id or product URN
-- param: max_tier int = 10 ; Deepest tier expanded; nodes reached one tier deeper are beyond_cutoff
-- param: min_share_pct float = 0 ; Nodes below this share of the CFP, percent, are not expanded (0 = off)
-- param: basis text = 'excluding_biogenic' ; excluding_biogenic or including_biogenic
-- param: as_of text = '' ; Date the chain is analysed for, YYYY-MM-DD (empty: middle of the root's reference period)
-- param: n int = 10 ; How many footprints to list before the rest
-- param: samples int = 1000 ; Monte Carlo samples (1 to 100000)
-- param: seed int = 1 ; Seed: the same seed, the same samples
-- returns: rank, footprint_id, product_name, company_name, kgco2e, share_pct, cumulative_share_pct, low_kgco2e, high_kgco2e
WITH per_footprint AS (
    SELECT footprint_id, product_name, company_name,
           sum(kgco2e) AS kgco2e,
           max(root_cfp_kgco2e_per_unit) AS cfp
    FROM hotspot_items($product, $max_tier, $min_share_pct, $basis, $as_of)
    GROUP BY footprint_id, product_name, company_name
),
ranked AS (
    SELECT *, CAST(ROW_NUMBER() OVER (ORDER BY kgco2e DESC, footprint_id) AS BIGINT) AS rank
    FROM per_footprint
),
top_and_rest AS (
    SELECT rank, footprint_id, product_name, company_name, kgco2e, cfp
    FROM ranked
    WHERE rank <= $n
    UNION ALL
    SELECT $n + 1, NULL, '(rest)', NULL, sum(kgco2e), max(cfp)
    FROM ranked
    WHERE rank > $n
    HAVING count(*) > 0
),
sure AS (
    SELECT key, p2_5_kgco2e, p97_5_kgco2e
    FROM hotspot_uncertainty($product, $max_tier, $min_share_pct, $basis, $as_of, $samples, $seed, $n)
    WHERE grouping = 'footprint'
)
SELECT
    t.rank,
    t.footprint_id,
    t.product_name,
    t.company_name,
    t.kgco2e,
    CAST(t.kgco2e AS DOUBLE) / CAST(t.cfp AS DOUBLE) * 100 AS share_pct,
    CAST(sum(t.kgco2e) OVER (ORDER BY t.rank) AS DOUBLE) / CAST(t.cfp AS DOUBLE) * 100 AS cumulative_share_pct,
    s.p2_5_kgco2e AS low_kgco2e,
    s.p97_5_kgco2e AS high_kgco2e
FROM top_and_rest t
LEFT JOIN sure s ON t.footprint_id = s.key OR (t.footprint_id IS NULL AND s.key IS NULL)
ORDER BY t.rank
