-- title: Hotspot Pareto
-- description: Footprints by contribution, largest first, with the cumulative share; the top $n
-- description: and one "(rest)" row holding everything else, so the shares add up to 100 %.
-- param: product text ; Footprint id or product URN
-- param: max_tier int = 10 ; Deepest tier expanded; nodes reached one tier deeper are beyond_cutoff
-- param: min_share_pct float = 0 ; Nodes below this share of the CFP, percent, are not expanded (0 = off)
-- param: basis text = 'excluding_biogenic' ; excluding_biogenic or including_biogenic
-- param: as_of text = '' ; Date the chain is analysed for, YYYY-MM-DD (empty: middle of the root's reference period)
-- param: n int = 10 ; How many footprints to list before the rest
-- returns: rank, footprint_id, product_name, company_name, kgco2e, share_pct, cumulative_share_pct
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
)
SELECT
    rank,
    footprint_id,
    product_name,
    company_name,
    kgco2e,
    CAST(kgco2e AS DOUBLE) / CAST(cfp AS DOUBLE) * 100 AS share_pct,
    CAST(sum(kgco2e) OVER (ORDER BY rank) AS DOUBLE) / CAST(cfp AS DOUBLE) * 100 AS cumulative_share_pct
FROM top_and_rest
ORDER BY rank
