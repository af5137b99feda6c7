-- title: Footprints by company
-- description: One row per company over the latest footprints: how many products, the range
-- description: of their CFPs, mean primary data share, and how their data were calculated.
-- param: company text = '' ; Only companies whose name contains this text (empty: all)
-- returns: company_name, company_id, footprints, products, min_cfp_kgco2e_per_unit, max_cfp_kgco2e_per_unit, mean_primary_data_share_pct, with_g2g, organization_based, countries
-- The distinct products are counted in a grouping of their own, joined back by company: a
-- `count(DISTINCT ...)` beside the other aggregates kept a set per company (6 GB and 12 s
-- over a million footprints), and `array_agg(DISTINCT ... ORDER BY ...)` sorted every
-- group's rows; the countries are each company's codes made distinct and sorted once.
WITH latest AS (
    SELECT company_name, company_id, product_id, country_code,
           pcf_excluding_biogenic_kgco2e_per_unit, primary_data_share_pct,
           gxd_g2g_fossil_ghg_kgco2e_per_unit, gxd_calc_method
    FROM footprints
    WHERE is_latest
      AND ($company = '' OR strpos(company_name, $company) > 0)
),
companies AS (
    SELECT
        company_name,
        company_id,
        count(*) AS footprints,
        min(pcf_excluding_biogenic_kgco2e_per_unit) AS min_cfp_kgco2e_per_unit,
        max(pcf_excluding_biogenic_kgco2e_per_unit) AS max_cfp_kgco2e_per_unit,
        -- The exact decimal sum, divided once: a float average summed in another order (partial
        -- aggregates on a cluster) could round a mean on a .x5 boundary the other way.
        round(CAST(sum(primary_data_share_pct) AS DOUBLE) / count(primary_data_share_pct), 1)
            AS mean_primary_data_share_pct,
        count(*) FILTER (WHERE gxd_g2g_fossil_ghg_kgco2e_per_unit IS NOT NULL) AS with_g2g,
        count(*) FILTER (WHERE gxd_calc_method = '1') AS organization_based,
        -- NULL codes are left out by array_to_string.
        array_to_string(array_sort(array_distinct(array_agg(country_code))), ', ') AS countries
    FROM latest
    GROUP BY company_name, company_id
),
products AS (
    SELECT company_name, company_id, count(product_id) AS products
    FROM (SELECT DISTINCT company_name, company_id, product_id FROM latest)
    GROUP BY company_name, company_id
)
-- Both groupings have the same companies; a company without a name or id is one too.
SELECT
    c.company_name,
    c.company_id,
    c.footprints,
    p.products,
    c.min_cfp_kgco2e_per_unit,
    c.max_cfp_kgco2e_per_unit,
    c.mean_primary_data_share_pct,
    c.with_g2g,
    c.organization_based,
    c.countries
FROM companies c
JOIN products p
  ON (p.company_name IS NOT DISTINCT FROM c.company_name)
 AND (p.company_id IS NOT DISTINCT FROM c.company_id)
ORDER BY c.company_name, c.company_id
