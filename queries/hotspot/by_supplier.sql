-- title: Hotspots by supplier
-- description: The decomposition summed per company (on every tier it is reached), largest first.
-- param: product text ; Footprint id or product URN
-- param: max_tier int = 10 ; Deepest tier expanded; nodes reached one tier deeper are beyond_cutoff
-- param: min_share_pct float = 0 ; Nodes below this share of the CFP, percent, are not expanded (0 = off)
-- param: basis text = 'excluding_biogenic' ; excluding_biogenic or including_biogenic
-- param: as_of text = '' ; Date the chain is analysed for, YYYY-MM-DD (empty: middle of the root's reference period)
-- returns: company_name, company_id, kgco2e, share_pct, first_tier, footprints, kinds
-- The footprints of a company are summed first, then the company: every aggregate stays a
-- plain sum, min or flag (a DISTINCT per company costs a hash set for each of them).
WITH per_footprint AS (
    SELECT
        company_name,
        company_id,
        footprint_id,
        sum(kgco2e) AS kgco2e,
        max(root_cfp_kgco2e_per_unit) AS cfp,
        min(tier) AS first_tier,
        bool_or(kind = 'beyond_cutoff') AS beyond_cutoff,
        bool_or(kind = 'mismatch') AS mismatch,
        bool_or(kind = 'own') AS own,
        bool_or(kind = 'unresolved') AS unresolved,
        bool_or(kind = 'untraced') AS untraced
    FROM hotspot_items($product, $max_tier, $min_share_pct, $basis, $as_of)
    GROUP BY company_name, company_id, footprint_id
)
SELECT
    company_name,
    company_id,
    sum(kgco2e) AS kgco2e,
    CAST(sum(kgco2e) AS DOUBLE) / CAST(max(cfp) AS DOUBLE) * 100 AS share_pct,
    min(first_tier) AS first_tier,
    count(*) AS footprints,
    concat_ws(', ',
        CASE WHEN bool_or(beyond_cutoff) THEN 'beyond_cutoff' END,
        CASE WHEN bool_or(mismatch) THEN 'mismatch' END,
        CASE WHEN bool_or(own) THEN 'own' END,
        CASE WHEN bool_or(unresolved) THEN 'unresolved' END,
        CASE WHEN bool_or(untraced) THEN 'untraced' END) AS kinds
FROM per_footprint
GROUP BY company_name, company_id
ORDER BY kgco2e DESC, company_name, company_id
