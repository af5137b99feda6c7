-- title: Hotspots by supplier
-- description: The decomposition summed per company (on every tier it is reached), largest first.
-- param: product text ; Footprint id or product URN
-- param: max_tier int = 10 ; Deepest tier expanded; nodes reached one tier deeper are beyond_cutoff
-- param: min_share_pct float = 0 ; Nodes below this share of the CFP, percent, are not expanded (0 = off)
-- param: basis text = 'excluding_biogenic' ; excluding_biogenic or including_biogenic
-- param: as_of text = '' ; Date the chain is analysed for, YYYY-MM-DD (empty: middle of the root's reference period)
-- returns: company_name, company_id, kgco2e, share_pct, first_tier, footprints, kinds
SELECT
    company_name,
    company_id,
    sum(kgco2e) AS kgco2e,
    CAST(sum(kgco2e) AS DOUBLE) / CAST(max(root_cfp_kgco2e_per_unit) AS DOUBLE) * 100 AS share_pct,
    min(tier) AS first_tier,
    count(DISTINCT footprint_id) AS footprints,
    array_to_string(array_agg(DISTINCT kind ORDER BY kind), ', ') AS kinds
FROM hotspot_items($product, $max_tier, $min_share_pct, $basis, $as_of)
GROUP BY company_name, company_id
ORDER BY kgco2e DESC, company_name, company_id
