-- title: CFP over reference periods
-- description: The CFP of each product's latest Active footprint per reference period, for
-- description: year-on-year comparison of a product with itself.
-- param: category text = '' ; Only products whose UN CPC code starts with this (empty: all)
-- param: company text = '' ; Only companies whose name contains this text (empty: all)
-- returns: period_end, product_name, company_name, cfp_kgco2e_per_unit, declared_unit, product_id
SELECT
    CAST(reference_period_end AS DATE) AS period_end,
    product_name_company AS product_name,
    company_name,
    pcf_excluding_biogenic_kgco2e_per_unit AS cfp_kgco2e_per_unit,
    declared_unit,
    product_id
FROM footprints
WHERE is_latest
  AND status = 'Active'
  AND ($category = '' OR starts_with(coalesce(product_category_cpc, ''), $category))
  AND ($company = '' OR strpos(company_name, $company) > 0)
ORDER BY product_name, period_end
