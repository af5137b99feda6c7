-- title: Footprints
-- description: One row per footprint: the latest version of each (every stored version
-- description: with $all_versions), by company, product and newest reference period first.
-- param: company text = '' ; Only companies whose name contains this text (empty: all)
-- param: all_versions bool = false ; Include versions superseded by a newer one
-- returns: company_name, product_name_company, product_id, declared_unit, cfp_kgco2e_per_unit, g2g_kgco2e_per_unit, calc_method, period_start, period_end, version, status, id
SELECT
    company_name,
    product_name_company,
    product_id,
    declared_unit,
    pcf_excluding_biogenic_kgco2e_per_unit AS cfp_kgco2e_per_unit,
    gxd_g2g_fossil_ghg_kgco2e_per_unit AS g2g_kgco2e_per_unit,
    gxd_calc_method AS calc_method,
    CAST(reference_period_start AS DATE) AS period_start,
    CAST(reference_period_end AS DATE) AS period_end,
    version,
    status,
    id
FROM footprints
WHERE ($all_versions OR is_latest)
  AND ($company = '' OR strpos(company_name, $company) > 0)
ORDER BY company_name, product_name_company, reference_period_end DESC, version DESC, id
