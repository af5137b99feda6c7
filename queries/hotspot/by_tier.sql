-- title: Hotspots by tier
-- description: The decomposition summed per tier and split by kind (tier 0 is the product's own
-- description: company, tier 1 its direct suppliers, …). Mismatches are negative.
-- param: product text ; Footprint id or product URN
-- param: max_tier int = 10 ; Deepest tier expanded; nodes reached one tier deeper are beyond_cutoff
-- param: min_share_pct float = 0 ; Nodes below this share of the CFP, percent, are not expanded (0 = off)
-- param: basis text = 'excluding_biogenic' ; excluding_biogenic or including_biogenic
-- param: as_of text = '' ; Date the chain is analysed for, YYYY-MM-DD (empty: middle of the root's reference period)
-- returns: tier, kgco2e, share_pct, own_kgco2e, untraced_kgco2e, mismatch_kgco2e, unresolved_kgco2e, beyond_cutoff_kgco2e, footprints
SELECT
    tier,
    sum(kgco2e) AS kgco2e,
    CAST(sum(kgco2e) AS DOUBLE) / CAST(max(root_cfp_kgco2e_per_unit) AS DOUBLE) * 100 AS share_pct,
    sum(CASE WHEN kind = 'own' THEN kgco2e ELSE 0 END) AS own_kgco2e,
    sum(CASE WHEN kind = 'untraced' THEN kgco2e ELSE 0 END) AS untraced_kgco2e,
    sum(CASE WHEN kind = 'mismatch' THEN kgco2e ELSE 0 END) AS mismatch_kgco2e,
    sum(CASE WHEN kind = 'unresolved' THEN kgco2e ELSE 0 END) AS unresolved_kgco2e,
    sum(CASE WHEN kind = 'beyond_cutoff' THEN kgco2e ELSE 0 END) AS beyond_cutoff_kgco2e,
    count(DISTINCT footprint_id) AS footprints
FROM hotspot_items($product, $max_tier, $min_share_pct, $basis, $as_of)
GROUP BY tier
ORDER BY tier
