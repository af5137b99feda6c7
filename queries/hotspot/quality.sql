-- title: Hotspot data quality
-- description: Data quality of a product's decomposition: primary-data coverage (own Gate-to-Gate
-- description: items of product-based footprints), PDS and DQRs weighted by |contribution|, and the
-- description: shares from organization-based data, untraced upstream, black boxes and cut-offs.
-- param: product text ; Footprint id or product URN
-- param: max_tier int = 10 ; Deepest tier expanded; nodes reached one tier deeper are beyond_cutoff
-- param: min_share_pct float = 0 ; Nodes below this share of the CFP, percent, are not expanded (0 = off)
-- param: basis text = 'excluding_biogenic' ; excluding_biogenic or including_biogenic
-- param: as_of text = '' ; Date the chain is analysed for, YYYY-MM-DD (empty: middle of the root's reference period)
-- returns: root_footprint_id, cfp_kgco2e_per_unit, primary_data_coverage_pct, weighted_pds_pct, weighted_technological_dqr, weighted_temporal_dqr, weighted_geographical_dqr, organization_based_pct, untraced_pct, unresolved_pct, beyond_cutoff_pct, mismatch_pct, footprints_reached, deepest_tier
SELECT *
FROM hotspot_quality($product, $max_tier, $min_share_pct, $basis, $as_of)
