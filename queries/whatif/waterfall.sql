-- title: What if: the CFP from as stored to with the scenario, step by step
-- description: A bundled scenario (`scenarios/`, `mieruka whatif --list`) applied to a product: the
-- description: CFP as stored, then the change of each supplier (or tier) the scenario moves, largest
-- description: first ($top of them, then "(rest)"), then the CFP with the scenario. The steps add up
-- description: exactly: as stored + the changes = with the scenario.
-- param: scenario text = 'display-supplier' ; A bundled scenario's name
-- param: product text = '' ; Footprint id or product URN (empty: the scenario's product)
-- param: grouping text in (supplier, tier) = 'supplier' ; Steps per supplier or per tier
-- param: top int = 10 ; Steps named; the others are one "(rest)" step
-- param: max_tier int = 10 ; Deepest tier expanded
-- param: min_share_pct float = 0 ; Nodes below this share of the CFP, percent, are not expanded (0 = off)
-- param: basis text = 'excluding_biogenic' ; excluding_biogenic or including_biogenic
-- param: as_of text = '' ; Date the chain is analysed for, YYYY-MM-DD (empty: middle of the root's reference period)
-- returns: step, name, kgco2e
WITH changed AS (
    SELECT name, change_kgco2e AS kgco2e,
           CAST(ROW_NUMBER() OVER (ORDER BY position) AS BIGINT) AS n
    FROM whatif_rows($scenario, $product, $max_tier, $min_share_pct, $basis, $as_of)
    WHERE grouping = $grouping AND change_kgco2e <> 0
),
total AS (
    SELECT cfp_before_kgco2e, cfp_after_kgco2e
    FROM whatif_summary($scenario, $product, $max_tier, $min_share_pct, $basis, $as_of)
)
SELECT step, name, kgco2e FROM (
    SELECT CAST(0 AS BIGINT) AS step, '(as stored)' AS name, cfp_before_kgco2e AS kgco2e FROM total
    UNION ALL
    SELECT n AS step, name, kgco2e FROM changed WHERE n <= $top
    UNION ALL
    SELECT CAST(MAX($top) + 1 AS BIGINT) AS step, '(rest)' AS name, SUM(kgco2e) AS kgco2e
    FROM changed WHERE n > $top HAVING COUNT(*) > 0
    UNION ALL
    SELECT CAST($top + 2 AS BIGINT) AS step, '(with the scenario)' AS name, cfp_after_kgco2e AS kgco2e FROM total
) AS steps
ORDER BY step
