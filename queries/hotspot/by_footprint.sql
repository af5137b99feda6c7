-- title: Hotspots by footprint
-- description: The decomposition summed per footprint (a product reached on several tiers is one
-- description: row), largest first, with the tiers it is reached on.
-- param: product text ; Footprint id or product URN
-- param: max_tier int = 10 ; Deepest tier expanded; nodes reached one tier deeper are beyond_cutoff
-- param: min_share_pct float = 0 ; Nodes below this share of the CFP, percent, are not expanded (0 = off)
-- param: basis text = 'excluding_biogenic' ; excluding_biogenic or including_biogenic
-- param: as_of text = '' ; Date the chain is analysed for, YYYY-MM-DD (empty: middle of the root's reference period)
-- returns: footprint_id, product_name, company_name, kgco2e, share_pct, tiers, kinds
SELECT
    footprint_id,
    product_name,
    company_name,
    sum(kgco2e) AS kgco2e,
    CAST(sum(kgco2e) AS DOUBLE) / CAST(max(root_cfp_kgco2e_per_unit) AS DOUBLE) * 100 AS share_pct,
    array_to_string(array_agg(DISTINCT CAST(tier AS VARCHAR) ORDER BY CAST(tier AS VARCHAR)), ', ') AS tiers,
    array_to_string(array_agg(DISTINCT kind ORDER BY kind), ', ') AS kinds
FROM hotspot_items($product, $max_tier, $min_share_pct, $basis, $as_of)
GROUP BY footprint_id, product_name, company_name
ORDER BY kgco2e DESC, footprint_id
