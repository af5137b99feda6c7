-- title: Hotspots by kind
-- description: The decomposition summed per kind: how much is measured Gate-to-Gate data, how much
-- description: untraced, unresolved or beyond the cut-offs, and how large the mismatches are.
-- param: product text ; Footprint id or product URN
-- param: max_tier int = 10 ; Deepest tier expanded; nodes reached one tier deeper are beyond_cutoff
-- param: min_share_pct float = 0 ; Nodes below this share of the CFP, percent, are not expanded (0 = off)
-- param: basis text = 'excluding_biogenic' ; excluding_biogenic or including_biogenic
-- param: as_of text = '' ; Date the chain is analysed for, YYYY-MM-DD (empty: middle of the root's reference period)
-- returns: kind, kgco2e, share_pct, items
SELECT
    kind,
    sum(kgco2e) AS kgco2e,
    CAST(sum(kgco2e) AS DOUBLE) / CAST(max(root_cfp_kgco2e_per_unit) AS DOUBLE) * 100 AS share_pct,
    count(*) AS items
FROM hotspot_items($product, $max_tier, $min_share_pct, $basis, $as_of)
GROUP BY kind
ORDER BY CASE kind WHEN 'own' THEN 0 WHEN 'untraced' THEN 1 WHEN 'mismatch' THEN 2
                   WHEN 'unresolved' THEN 3 ELSE 4 END
