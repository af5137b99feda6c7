-- title: Footprints by company
-- description: One row per company over the latest footprints: how many products, the range
-- description: of their CFPs, mean primary data share, and how their data were calculated.
-- param: company text = '' ; Only companies whose name contains this text (empty: all)
-- returns: company_name, company_id, footprints, products, min_cfp_kgco2e_per_unit, max_cfp_kgco2e_per_unit, mean_primary_data_share_pct, with_g2g, organization_based, countries
SELECT
    company_name,
    company_id,
    count(*) AS footprints,
    count(DISTINCT product_id) AS products,
    min(pcf_excluding_biogenic_kgco2e_per_unit) AS min_cfp_kgco2e_per_unit,
    max(pcf_excluding_biogenic_kgco2e_per_unit) AS max_cfp_kgco2e_per_unit,
    -- The exact decimal sum, divided once: a float average summed in another order (partial
    -- aggregates on a cluster) could round a mean on a .x5 boundary the other way.
    round(CAST(sum(primary_data_share_pct) AS DOUBLE) / count(primary_data_share_pct), 1)
        AS mean_primary_data_share_pct,
    count(*) FILTER (WHERE gxd_g2g_fossil_ghg_kgco2e_per_unit IS NOT NULL) AS with_g2g,
    count(*) FILTER (WHERE gxd_calc_method = '1') AS organization_based,
    array_to_string(array_agg(DISTINCT country_code ORDER BY country_code), ', ') AS countries
FROM footprints
WHERE is_latest
  AND ($company = '' OR strpos(company_name, $company) > 0)
GROUP BY company_name, company_id
ORDER BY company_name, company_id
