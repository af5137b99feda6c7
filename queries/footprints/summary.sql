-- title: Dataset summary
-- description: What the dataset holds: footprint versions and latest footprints, companies,
-- description: products, PACT versions, GxD coverage (Gate-to-Gate data, organization-based
-- description: calculations), BOM edges and the span of reference periods.
-- returns: footprint_versions, latest_footprints, companies, products, pact_v2, pact_v3, with_gxd, with_g2g, organization_based, bom_edges, first_period_start, last_period_end
SELECT
    count(*) AS footprint_versions,
    count(*) FILTER (WHERE is_latest) AS latest_footprints,
    count(DISTINCT company_id) AS companies,
    count(DISTINCT product_id) AS products,
    count(*) FILTER (WHERE is_latest AND pact_major_version = 2) AS pact_v2,
    count(*) FILTER (WHERE is_latest AND pact_major_version = 3) AS pact_v3,
    count(*) FILTER (WHERE is_latest AND gxd_present) AS with_gxd,
    count(*) FILTER (WHERE is_latest AND gxd_g2g_fossil_ghg_kgco2e_per_unit IS NOT NULL) AS with_g2g,
    count(*) FILTER (WHERE is_latest AND gxd_calc_method = '1') AS organization_based,
    (SELECT count(*) FROM bom) AS bom_edges,
    CAST(min(reference_period_start) AS DATE) AS first_period_start,
    CAST(max(reference_period_end) AS DATE) AS last_period_end
FROM footprints
