-- title: What if: the scenario's changes
-- description: Each change of the scenario, in order, and what it did to the product's chain (in
-- description: English and, as effect_ja, in Japanese).
-- param: scenario text = 'display-supplier' ; A bundled scenario's name
-- param: product text = '' ; Footprint id or product URN (empty: the scenario's product)
-- param: max_tier int = 10 ; Deepest tier expanded
-- param: min_share_pct float = 0 ; Nodes below this share of the CFP, percent, are not expanded (0 = off)
-- param: basis text = 'excluding_biogenic' ; excluding_biogenic or including_biogenic
-- param: as_of text = '' ; Date the chain is analysed for, YYYY-MM-DD (empty: middle of the root's reference period)
-- returns: position, kind, effect, effect_ja
SELECT position, kind, effect, effect_ja
FROM whatif_changes($scenario, $product, $max_tier, $min_share_pct, $basis, $as_of)
ORDER BY position
