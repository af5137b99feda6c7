-- title: How sure: shares with their intervals
-- description: Monte Carlo over the product's decomposition (`mieruka hotspots --uncertainty`):
-- description: every footprint's figures vary by a lognormal factor with mean 1 and a spread from
-- description: its data quality (the built-in spread table), a shared supplier one draw per sample.
-- description: One row per supplier (the $top largest, then "(rest)") or tier of $grouping: the
-- description: share as reported and its 2.5 / 50 / 97.5 percentiles, and the CFP's interval;
-- description: grouping 'cfp' gives the one row of the CFP (its interval also in percent of it).
-- param: product text ; Footprint id or product URN
-- param: grouping text in (supplier, tier, cfp) = 'supplier' ; Rows per supplier, per tier, or the CFP's one row
-- param: samples int = 1000 ; Monte Carlo samples (1 to 100000)
-- param: seed int = 1 ; Seed: the same seed, the same samples
-- param: top int = 10 ; Suppliers named; the others are one "(rest)" row
-- param: max_tier int = 10 ; Deepest tier expanded; nodes reached one tier deeper are beyond_cutoff
-- param: min_share_pct float = 0 ; Nodes below this share of the CFP, percent, are not expanded (0 = off)
-- param: basis text = 'excluding_biogenic' ; excluding_biogenic or including_biogenic
-- param: as_of text = '' ; Date the chain is analysed for, YYYY-MM-DD (empty: middle of the root's reference period)
-- returns: name, share_pct, p2_5_pct, p50_pct, p97_5_pct, cfp_kgco2e_per_unit, cfp_p2_5_kgco2e_per_unit, cfp_p50_kgco2e_per_unit, cfp_p97_5_kgco2e_per_unit, samples
SELECT name, share_pct, p2_5_pct, p50_pct, p97_5_pct,
       cfp_kgco2e_per_unit, cfp_p2_5_kgco2e_per_unit, cfp_p50_kgco2e_per_unit,
       cfp_p97_5_kgco2e_per_unit, samples
FROM hotspot_uncertainty($product, $max_tier, $min_share_pct, $basis, $as_of, $samples, $seed, $top)
WHERE grouping = $grouping
