-- title: Data gaps still open
-- description: The product's data gaps in its decomposition now, largest share of the CFP first
-- description: (as `mieruka gaps` lists them), each with the latest request sent about it, if any.
-- param: product text ; Product URN
-- returns: rank, share_pct, kind, company_name, product_name, input, request_status, requested_at, ask
SELECT
    g.rank,
    g.share_pct,
    g.kind,
    g.company_name,
    g.product_name,
    g.input,
    r.status AS request_status,
    r.sent_at AS requested_at,
    g.ask
FROM hotspot_gaps($product) AS g
LEFT JOIN (
    SELECT
        footprint_id,
        gap,
        status,
        sent_at,
        row_number() OVER (PARTITION BY footprint_id, gap ORDER BY sent_at DESC, request_id DESC) AS latest
    FROM pact_requests
) AS r
    ON r.footprint_id = g.footprint_id AND r.gap = g.kind AND r.latest = 1
ORDER BY g.rank
