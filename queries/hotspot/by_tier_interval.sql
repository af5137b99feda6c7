-- title: Hotspots by tier, with how sure each tier is
-- description: The decomposition summed per tier and split by kind (hotspot/by_tier), and each tier's
-- description: 95 % interval from the Monte Carlo of `mieruka hotspots --uncertainty` ($samples
-- description: samples, seed $seed): low_kgco2e and high_kgco2e are the 2.5th and 97.5th
-- description: percentiles of the tier's total.
-- param: product text ; Footprint id or product URN
-- param: max_tier int = 10 ; Deepest tier expanded; nodes reached one tier deeper are beyond_cutoff
-- param: min_share_pct float = 0 ; Nodes below this share of the CFP, percent, are not expanded (0 = off)
-- param: basis text = 'excluding_biogenic' ; excluding_biogenic or including_biogenic
-- param: as_of text = '' ; Date the chain is analysed for, YYYY-MM-DD (empty: middle of the root's reference period)
-- param: samples int = 1000 ; Monte Carlo samples (1 to 100000)
-- param: seed int = 1 ; Seed: the same seed, the same samples
-- returns: tier, kgco2e, own_kgco2e, untraced_kgco2e, mismatch_kgco2e, unresolved_kgco2e, beyond_cutoff_kgco2e, low_kgco2e, high_kgco2e
WITH tiers AS (
    SELECT
        tier,
        sum(kgco2e) AS kgco2e,
        sum(CASE WHEN kind = 'own' THEN kgco2e ELSE 0 END) AS own_kgco2e,
        sum(CASE WHEN kind = 'untraced' THEN kgco2e ELSE 0 END) AS untraced_kgco2e,
        sum(CASE WHEN kind = 'mismatch' THEN kgco2e ELSE 0 END) AS mismatch_kgco2e,
        sum(CASE WHEN kind = 'unresolved' THEN kgco2e ELSE 0 END) AS unresolved_kgco2e,
        sum(CASE WHEN kind = 'beyond_cutoff' THEN kgco2e ELSE 0 END) AS beyond_cutoff_kgco2e
    FROM hotspot_items($product, $max_tier, $min_share_pct, $basis, $as_of)
    GROUP BY tier
),
sure AS (
    SELECT name, p2_5_kgco2e, p97_5_kgco2e
    FROM hotspot_uncertainty($product, $max_tier, $min_share_pct, $basis, $as_of, $samples, $seed, 10)
    WHERE grouping = 'tier'
)
SELECT t.*, s.p2_5_kgco2e AS low_kgco2e, s.p97_5_kgco2e AS high_kgco2e
FROM tiers t
LEFT JOIN sure s ON CAST(t.tier AS VARCHAR) = s.name
ORDER BY t.tier
