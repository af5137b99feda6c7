-- title: Hotspots by product category
-- description: The decomposition summed per UN CPC code of the footprints reached.
-- param: product text ; Footprint id or product URN
-- param: max_tier int = 10 ; Deepest tier expanded; nodes reached one tier deeper are beyond_cutoff
-- param: min_share_pct float = 0 ; Nodes below this share of the CFP, percent, are not expanded (0 = off)
-- param: basis text = 'excluding_biogenic' ; excluding_biogenic or including_biogenic
-- param: as_of text = '' ; Date the chain is analysed for, YYYY-MM-DD (empty: middle of the root's reference period)
-- returns: cpc, kgco2e, share_pct, footprints
SELECT
    coalesce(cpc, '(none)') AS cpc,
    sum(kgco2e) AS kgco2e,
    CAST(sum(kgco2e) AS DOUBLE) / CAST(max(root_cfp_kgco2e_per_unit) AS DOUBLE) * 100 AS share_pct,
    count(DISTINCT footprint_id) AS footprints
FROM hotspot_items($product, $max_tier, $min_share_pct, $basis, $as_of)
GROUP BY coalesce(cpc, '(none)')
ORDER BY kgco2e DESC, cpc
