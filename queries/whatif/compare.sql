-- title: What if: as stored and with the scenario, side by side
-- description: Per supplier or footprint whose contribution changes, or per tier ($grouping): kgCO2e
-- description: per declared unit of the product as stored, with the scenario, and the change; largest
-- description: change first (tiers in order). The changes add up to the CFP's; the tiers' columns to
-- description: the CFP as stored and with the scenario.
-- param: scenario text = 'display-supplier' ; A bundled scenario's name
-- param: product text = '' ; Footprint id or product URN (empty: the scenario's product)
-- param: grouping text in (supplier, tier, footprint) = 'supplier' ; Rows per supplier, tier or footprint
-- param: max_tier int = 10 ; Deepest tier expanded
-- param: min_share_pct float = 0 ; Nodes below this share of the CFP, percent, are not expanded (0 = off)
-- param: basis text = 'excluding_biogenic' ; excluding_biogenic or including_biogenic
-- param: as_of text = '' ; Date the chain is analysed for, YYYY-MM-DD (empty: middle of the root's reference period)
-- returns: name, key, before_kgco2e, after_kgco2e, change_kgco2e
SELECT name, key, before_kgco2e, after_kgco2e, change_kgco2e
FROM whatif_rows($scenario, $product, $max_tier, $min_share_pct, $basis, $as_of)
WHERE grouping = $grouping
ORDER BY position
