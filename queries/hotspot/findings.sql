-- title: Hotspot findings
-- description: What deserves a look in the chain behind a product: mismatches (with both numbers),
-- description: cycles, unit problems, dangling BOM references, organization-based data above 20 %,
-- description: and inputs whose reference period is older than the product's. Each message is also
-- description: in Japanese (message_ja).
-- param: product text ; Footprint id or product URN
-- param: max_tier int = 10 ; Deepest tier expanded; nodes reached one tier deeper are beyond_cutoff
-- param: min_share_pct float = 0 ; Nodes below this share of the CFP, percent, are not expanded (0 = off)
-- param: basis text = 'excluding_biogenic' ; excluding_biogenic or including_biogenic
-- param: as_of text = '' ; Date the chain is analysed for, YYYY-MM-DD (empty: middle of the root's reference period)
-- returns: kind, footprint_id, message, footprint_ids, message_ja
SELECT kind, footprint_id, message, footprint_ids, message_ja
FROM hotspot_findings($product, $max_tier, $min_share_pct, $basis, $as_of)
ORDER BY kind, footprint_id, message
