-- title: What if: the CFP, GX score and rank before and after
-- description: One row: the product's CFP as stored and with the scenario, and its GX score and rank
-- description: in its category (its CPC code; 1 = best) before and after, the other products of the
-- description: category as stored; and how many footprints' CFPs the changes reached.
-- param: scenario text = 'display-supplier' ; A bundled scenario's name
-- param: product text = '' ; Footprint id or product URN (empty: the scenario's product)
-- param: max_tier int = 10 ; Deepest tier expanded
-- param: min_share_pct float = 0 ; Nodes below this share of the CFP, percent, are not expanded (0 = off)
-- param: basis text = 'excluding_biogenic' ; excluding_biogenic or including_biogenic
-- param: as_of text = '' ; Date the chain is analysed for, YYYY-MM-DD (empty: middle of the root's reference period)
-- returns: scenario, product_name, cfp_before_kgco2e, cfp_after_kgco2e, cfp_change_kgco2e, cfp_change_pct, gx_score_before, gx_score_after, rank_before, rank_after, products_in_category, footprints_recomputed
SELECT scenario, product_name, cfp_before_kgco2e, cfp_after_kgco2e, cfp_change_kgco2e,
       cfp_change_pct, gx_score_before, gx_score_after, rank_before, rank_after,
       products_in_category, footprints_recomputed
FROM whatif_summary($scenario, $product, $max_tier, $min_share_pct, $basis, $as_of)
