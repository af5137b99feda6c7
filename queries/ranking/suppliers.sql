-- title: Supplier ranking
-- description: Per supplier company and product category: products supplied, mean GX score, CFP
-- description: intensity against the category median (same declared unit; below 1 is better),
-- description: mean reduction achieved, mean primary data share and the share of organization-based
-- description: data; with $product, each supplier's contribution to that buyer product's hotspot
-- description: decomposition. Suppliers are ranked within one CPC category only: the framework is
-- description: built to compare a supplier with itself over time, and comparing different companies
-- description: is the user's own responsibility. Ties are broken by company name and id.
-- param: category text = '' ; UN CPC code or prefix to rank within (empty: every category, each ranked on its own)
-- param: by text in (score, intensity, reduction, pds) = 'score' ; What suppliers are ranked by: mean GX score, CFP intensity, mean reduction or mean primary data share
-- param: product text = '' ; Buyer product (URN or footprint id): adds each supplier's contribution to it
-- returns: cpc, rank, company_name, company_id, products, mean_gx_score, cfp_intensity, mean_reduction_pct, mean_pds_pct, organization_based_pct, contribution_kgco2e, contribution_pct
WITH scored AS (
    SELECT *
    FROM gx_scores()
    WHERE $category = '' OR starts_with(coalesce(cpc, ''), $category)
),
medians AS (
    SELECT cpc, declared_unit, median(CAST(cfp_kgco2e_per_unit AS DOUBLE)) AS median_cfp
    FROM scored
    GROUP BY cpc, declared_unit
),
suppliers AS (
    SELECT
        s.cpc,
        s.company_name,
        s.company_id,
        count(*) AS products,
        -- Means of decimals from their exact sums: the same in any summation order.
        CAST(sum(s.gx_score) AS DOUBLE) / count(s.gx_score) AS mean_gx_score,
        avg(CAST(s.cfp_kgco2e_per_unit AS DOUBLE) / nullif(m.median_cfp, 0)) AS cfp_intensity,
        CAST(sum(s.rep_pct) AS DOUBLE) / count(s.rep_pct) AS mean_reduction_pct,
        CAST(sum(s.primary_data_share_pct) AS DOUBLE) / count(s.primary_data_share_pct) AS mean_pds_pct,
        avg(CASE WHEN s.organization_based THEN 100.0 ELSE 0.0 END) AS organization_based_pct
    FROM scored s
    JOIN medians m
      ON (m.cpc IS NOT DISTINCT FROM s.cpc)
     AND (m.declared_unit IS NOT DISTINCT FROM s.declared_unit)
    GROUP BY s.cpc, s.company_name, s.company_id
),
contribution AS (
    SELECT company_id, sum(kgco2e) AS kgco2e, sum(share_pct) AS share_pct
    FROM hotspot_items($product, 10, 0, 'excluding_biogenic', '')
    GROUP BY company_id
)
SELECT
    s.cpc,
    CAST(ROW_NUMBER() OVER (
        PARTITION BY s.cpc
        ORDER BY
            CASE $by
                WHEN 'intensity' THEN s.cfp_intensity
                WHEN 'reduction' THEN -s.mean_reduction_pct
                WHEN 'pds' THEN -s.mean_pds_pct
                ELSE -s.mean_gx_score
            END ASC NULLS LAST,
            s.company_name,
            s.company_id
    ) AS BIGINT) AS rank,
    s.company_name,
    s.company_id,
    s.products,
    round(s.mean_gx_score, 2) AS mean_gx_score,
    round(s.cfp_intensity, 3) AS cfp_intensity,
    round(s.mean_reduction_pct, 2) AS mean_reduction_pct,
    round(s.mean_pds_pct, 1) AS mean_pds_pct,
    round(s.organization_based_pct, 1) AS organization_based_pct,
    c.kgco2e AS contribution_kgco2e,
    round(c.share_pct, 2) AS contribution_pct
FROM suppliers s
LEFT JOIN contribution c ON c.company_id = s.company_id
ORDER BY s.cpc, rank
