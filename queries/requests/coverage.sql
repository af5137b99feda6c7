-- title: Primary data before the requests and now
-- description: The share of a product's CFP backed by primary Gate-to-Gate data (own items of
-- description: product-based footprints), as it was when the first data request for it was sent
-- description: (`mieruka request` records it) and as it is now. No "before" row until a request is sent.
-- param: product text ; Product URN the requests were made for
-- returns: moment, primary_data_coverage_pct
SELECT moment, primary_data_coverage_pct
FROM (
    SELECT 'before the requests' AS moment, coverage_before_pct AS primary_data_coverage_pct
    FROM (
        SELECT coverage_before_pct
        FROM pact_requests
        WHERE root_product_id = $product AND coverage_before_pct IS NOT NULL
        ORDER BY sent_at, request_id
        LIMIT 1
    )
    UNION ALL
    SELECT 'now' AS moment, primary_data_coverage_pct
    FROM hotspot_quality($product)
)
ORDER BY moment
