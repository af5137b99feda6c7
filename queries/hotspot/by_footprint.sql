-- title: Hotspots by footprint
-- description: The decomposition summed per footprint (a product reached on several tiers is one
-- description: row), largest first, with the tiers it is reached on.
-- param: product text ; Footprint id or product URN
-- param: max_tier int = 10 ; Deepest tier expanded; nodes reached one tier deeper are beyond_cutoff
-- param: min_share_pct float = 0 ; Nodes below this share of the CFP, percent, are not expanded (0 = off)
-- param: basis text = 'excluding_biogenic' ; excluding_biogenic or including_biogenic
-- param: as_of text = '' ; Date the chain is analysed for, YYYY-MM-DD (empty: middle of the root's reference period)
-- returns: footprint_id, product_name, company_name, kgco2e, share_pct, tiers, kinds
-- Items are summed per tier first (a footprint has one row per tier), then per footprint:
-- no DISTINCT per footprint (each would cost a hash set for every footprint reached).
WITH per_tier AS (
    SELECT
        footprint_id,
        product_name,
        company_name,
        tier,
        sum(kgco2e) AS kgco2e,
        max(root_cfp_kgco2e_per_unit) AS cfp,
        bool_or(kind = 'beyond_cutoff') AS beyond_cutoff,
        bool_or(kind = 'mismatch') AS mismatch,
        bool_or(kind = 'own') AS own,
        bool_or(kind = 'unresolved') AS unresolved,
        bool_or(kind = 'untraced') AS untraced
    FROM hotspot_items($product, $max_tier, $min_share_pct, $basis, $as_of)
    GROUP BY footprint_id, product_name, company_name, tier
)
SELECT
    footprint_id,
    product_name,
    company_name,
    sum(kgco2e) AS kgco2e,
    CAST(sum(kgco2e) AS DOUBLE) / CAST(max(cfp) AS DOUBLE) * 100 AS share_pct,
    array_to_string(array_agg(CAST(tier AS VARCHAR) ORDER BY CAST(tier AS VARCHAR)), ', ') AS tiers,
    concat_ws(', ',
        CASE WHEN bool_or(beyond_cutoff) THEN 'beyond_cutoff' END,
        CASE WHEN bool_or(mismatch) THEN 'mismatch' END,
        CASE WHEN bool_or(own) THEN 'own' END,
        CASE WHEN bool_or(unresolved) THEN 'unresolved' END,
        CASE WHEN bool_or(untraced) THEN 'untraced' END) AS kinds
FROM per_tier
GROUP BY footprint_id, product_name, company_name
ORDER BY kgco2e DESC, footprint_id
