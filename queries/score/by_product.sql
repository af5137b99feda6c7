-- title: GX scores by product
-- description: Every product's GX score under the session's profile (default gxd-2025), with
-- description: the indicators it lacks data for, its CFP and its reduction achieved.
-- param: category text = '' ; Only products whose UN CPC code starts with this (empty: all)
-- returns: product_name, company_name, cpc, gx_score, missing, cfp_kgco2e_per_unit, rep_pct, rep_basis, product_id
SELECT
    product_name,
    company_name,
    cpc,
    gx_score,
    missing,
    cfp_kgco2e_per_unit,
    rep_pct,
    rep_basis,
    product_id
FROM gx_scores()
WHERE $category = '' OR starts_with(coalesce(cpc, ''), $category)
ORDER BY gx_score DESC, product_id
