-- title: GX score breakdown
-- description: Each product's points per indicator group of the default profile's sheet
-- description: (national viewpoint; declaration, disclosure, certification; decarbonization;
-- description: resource circulation; additionality). For profiles with these groups.
-- param: category text = '' ; Only products whose UN CPC code starts with this (empty: all)
-- returns: product_name, national_pt, disclosure_pt, decarbonization_pt, circulation_pt, additionality_pt, gx_score
SELECT
    product_name,
    points_group_national AS national_pt,
    points_group_disclosure AS disclosure_pt,
    points_group_decarbonization AS decarbonization_pt,
    points_group_circulation AS circulation_pt,
    points_group_additionality AS additionality_pt,
    gx_score
FROM gx_scores()
WHERE $category = '' OR starts_with(coalesce(cpc, ''), $category)
ORDER BY gx_score DESC, product_id
