-- title: Hotspot items
-- description: A product's cradle-to-gate footprint decomposed into items per (footprint, tier,
-- description: kind) by the native engine: own Gate-to-Gate emissions, untraced upstream, mismatches
-- description: (negative), unresolved black boxes and nodes beyond the cut-offs. The items sum to the CFP.
-- param: product text ; Footprint id or product URN
-- param: max_tier int = 10 ; Deepest tier expanded; nodes reached one tier deeper are beyond_cutoff
-- param: min_share_pct float = 0 ; Nodes below this share of the CFP, percent, are not expanded (0 = off)
-- param: basis text = 'excluding_biogenic' ; excluding_biogenic or including_biogenic
-- param: as_of text = '' ; Date the chain is analysed for, YYYY-MM-DD (empty: middle of the root's reference period)
-- returns: tier, kind, company_name, product_name, country_code, cpc, footprint_id, product_id, kgco2e, share_pct
SELECT tier, kind, company_name, product_name, country_code, cpc, footprint_id, product_id, kgco2e, share_pct
FROM hotspot_items($product, $max_tier, $min_share_pct, $basis, $as_of)
ORDER BY tier, abs(kgco2e) DESC, footprint_id, kind
