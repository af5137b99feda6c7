-- title: Hotspot items (portable SQL)
-- description: The decomposition of hotspot/items written as one portable SQL statement: a recursive
-- description: CTE walks every path from the root through the resolved BOM, and the paths are summed
-- description: per (footprint, tier). Decimal128 with the native engine's rounding (quantities and a · cfp at 12 places, items at 24). It
-- description: enumerates paths, so it suits small and medium graphs; it does not take min_share_pct,
-- description: which needs aggregation inside the recursion: hotspot/items (native) does.
-- param: product text ; Footprint id or product URN
-- param: max_tier int = 10 ; Deepest tier expanded; nodes reached one tier deeper are beyond_cutoff
-- param: basis text = 'excluding_biogenic' ; excluding_biogenic or including_biogenic
-- param: as_of text = '' ; Date the chain is analysed for, YYYY-MM-DD (empty: middle of the root's reference period)
-- returns: tier, kind, footprint_id, product_id, product_name, company_name, kgco2e, share_pct
WITH RECURSIVE
nodes AS (
    SELECT
        id,
        product_id,
        product_name_company AS product_name,
        company_name,
        company_id,
        product_category_cpc AS cpc,
        country_code,
        declared_unit,
        product_mass_per_declared_unit_kg AS mass_kg,
        CAST(reference_period_start AS BIGINT) AS start_us,
        CAST(reference_period_end AS BIGINT) AS end_us,
        is_latest AND status = 'Active' AS candidate,
        CASE WHEN $basis = 'including_biogenic'
             THEN coalesce(pcf_including_biogenic_kgco2e_per_unit, pcf_excluding_biogenic_kgco2e_per_unit)
             ELSE pcf_excluding_biogenic_kgco2e_per_unit END AS cfp,
        CASE WHEN $basis = 'including_biogenic'
             THEN gxd_g2g_biogenic_kgco2e_per_unit
             ELSE gxd_g2g_fossil_ghg_kgco2e_per_unit END AS g2g
    FROM (
        -- One row per footprint id: the highest version (v2 keeps the id across versions).
        SELECT *, ROW_NUMBER() OVER (PARTITION BY id ORDER BY version DESC NULLS LAST) AS newest
        FROM footprints
    )
    WHERE newest = 1
),
urns AS (
    SELECT DISTINCT id, urn FROM (SELECT id, unnest(product_ids) AS urn FROM footprints)
),
-- The root: a footprint id, else the product's latest Active footprint (covering $as_of).
root AS (
    SELECT id, start_us, end_us FROM (
        SELECT n.id, n.start_us, n.end_us,
               ROW_NUMBER() OVER (ORDER BY n.id = lower($product) DESC, n.end_us DESC, n.start_us DESC, n.id DESC) AS pick
        FROM nodes n
        WHERE n.id = lower($product)
           OR (n.candidate
               AND n.id IN (SELECT id FROM urns WHERE urn = $product)
               AND ($as_of = ''
                    OR (n.start_us <= CAST(CAST(nullif($as_of, '') AS DATE) AS BIGINT) * 86400000000
                        AND CAST(CAST(nullif($as_of, '') AS DATE) AS BIGINT) * 86400000000 < n.end_us)))
    ) WHERE pick = 1
),
-- The date inputs are resolved for: $as_of, or the middle of the root's reference period.
resolve_at AS (
    SELECT CASE WHEN $as_of = '' THEN start_us + (end_us - start_us) / 2
                ELSE CAST(CAST(nullif($as_of, '') AS DATE) AS BIGINT) * 86400000000 END AS d
    FROM root
),
-- Per input URN, the footprint that stands for it: covering the date, else the most recent
-- earlier, else the earliest later (ties broken by id, as the native engine does).
picked AS (
    SELECT urn, id AS child_id FROM (
        SELECT u.urn, n.id,
               ROW_NUMBER() OVER (
                   PARTITION BY u.urn
                   ORDER BY bucket,
                            CASE WHEN bucket = 2 THEN n.end_us ELSE -n.end_us END,
                            CASE WHEN bucket = 2 THEN n.start_us ELSE -n.start_us END,
                            CASE WHEN bucket = 2 THEN n.id END ASC,
                            CASE WHEN bucket < 2 THEN n.id END DESC) AS pick
        FROM (
            SELECT n.*, CASE WHEN n.start_us <= r.d AND r.d < n.end_us THEN 0
                             WHEN n.end_us <= r.d THEN 1
                             ELSE 2 END AS bucket
            FROM nodes n CROSS JOIN resolve_at r
            WHERE n.candidate
        ) n
        JOIN urns u ON u.id = n.id
    ) WHERE pick = 1
),
-- BOM edges of each footprint: its own BOM extension, else the CSV rows of its products.
raw_edges AS (
    SELECT parent_footprint_id AS parent_id, child_product_id AS child_urn, amount, unit
    FROM bom
    WHERE parent_footprint_id IS NOT NULL
    UNION ALL
    SELECT u.id, b.child_product_id, b.amount, b.unit
    FROM bom b
    JOIN urns u ON u.urn = b.parent_product_id
    WHERE b.parent_footprint_id IS NULL
      AND u.id NOT IN (SELECT parent_footprint_id FROM bom WHERE parent_footprint_id IS NOT NULL)
),
-- Amounts in the input's declared unit; an edge in kg converts with the input's mass per
-- declared unit, rounded to 12 places like every stored amount (as the native engine does);
-- anything else that cannot be converted is left out.
edges AS (
    SELECT parent_id, child_id, amount, CAST(amount * cfp AS DECIMAL(38, 12)) AS coef FROM (
        SELECT e.parent_id, p.child_id,
               CASE WHEN e.unit IS NULL OR e.unit = c.declared_unit THEN CAST(e.amount AS DECIMAL(38, 12))
                    WHEN e.unit = 'kilogram' AND c.mass_kg > 0 THEN CAST(e.amount / c.mass_kg AS DECIMAL(38, 12))
               END AS amount,
               c.cfp
        FROM raw_edges e
        JOIN picked p ON p.urn = e.child_urn
        JOIN nodes c ON c.id = p.child_id
    ) WHERE amount IS NOT NULL
),
-- x: declared units per unit of the root; v: what the node receives, x(parent) · coef, so a
-- node that is not descended reports exactly what its customers passed to it.
walk(id, tier, x, v) AS (
    SELECT root.id, 0, CAST(1 AS DECIMAL(38, 12)), CAST(n.cfp AS DECIMAL(38, 24))
    FROM root JOIN nodes n ON n.id = root.id
    UNION ALL
    SELECT e.child_id, w.tier + 1, CAST(w.x * e.amount AS DECIMAL(38, 12)),
           CAST(w.x * e.coef AS DECIMAL(38, 24))
    FROM walk w
    JOIN nodes n ON n.id = w.id
    JOIN edges e ON e.parent_id = w.id
    WHERE w.tier <= $max_tier AND n.g2g IS NOT NULL
),
reached AS (
    SELECT id, tier, sum(x) AS x, sum(v) AS v FROM walk GROUP BY id, tier
),
expanded AS (
    SELECT r.id, r.tier, r.x, n.cfp, n.g2g
    FROM reached r JOIN nodes n ON n.id = r.id
    WHERE r.tier <= $max_tier AND n.g2g IS NOT NULL
),
-- x · (cfp − g2g − Σ a · cfp(child)), term by term so every product keeps its scale
-- (x at 12 places times a value at 12 is exact at 24); a · cfp(child) is rounded to 12 places
-- once, as the native engine's edge coefficient is.
gaps AS (
    SELECT x.id, x.tier,
           x.x * x.cfp - x.x * x.g2g
             - coalesce(sum(x.x * e.coef), 0) AS v
    FROM expanded x
    LEFT JOIN edges e ON e.parent_id = x.id
    GROUP BY x.id, x.tier, x.x, x.cfp, x.g2g
),
items AS (
    SELECT r.tier, r.id, 'beyond_cutoff' AS kind, r.v AS v
    FROM reached r
    WHERE r.tier > $max_tier
    UNION ALL
    SELECT r.tier, r.id, 'unresolved', r.v
    FROM reached r JOIN nodes n ON n.id = r.id
    WHERE r.tier <= $max_tier AND n.g2g IS NULL
    UNION ALL
    SELECT tier, id, 'own', x * g2g FROM expanded
    UNION ALL
    SELECT tier, id, CASE WHEN v > 0 THEN 'untraced' ELSE 'mismatch' END, v FROM gaps
)
SELECT
    i.tier,
    i.kind,
    i.id AS footprint_id,
    n.product_id,
    n.product_name,
    n.company_name,
    n.company_id,
    n.cpc,
    n.country_code,
    CAST(i.v AS DECIMAL(38, 24)) AS kgco2e,
    CAST(i.v AS DOUBLE) / CAST(rn.cfp AS DOUBLE) * 100 AS share_pct
FROM items i
JOIN nodes n ON n.id = i.id
CROSS JOIN (SELECT n.cfp FROM root JOIN nodes n ON n.id = root.id) rn
WHERE i.v <> 0
ORDER BY i.tier, i.kind, i.id
