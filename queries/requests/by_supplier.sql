-- title: Data requests per supplier
-- description: The PACT requests `mieruka request` sent, per partner and company: how many are
-- description: open (sent, no answer yet), fulfilled, rejected or failed to send, and the share of
-- description: the CFP they asked about.
-- param: product text = '' ; Product URN the requests were made for (empty: every product)
-- returns: partner, company_id, requests, open, fulfilled, rejected, failed, asked_share_pct, last_sent_at, last_answered_at
SELECT
    partner,
    company_id,
    count(*) AS requests,
    count(*) FILTER (WHERE status = 'sent') AS open,
    count(*) FILTER (WHERE status = 'fulfilled') AS fulfilled,
    count(*) FILTER (WHERE status = 'rejected') AS rejected,
    count(*) FILTER (WHERE status = 'failed') AS failed,
    sum(share_pct) AS asked_share_pct,
    max(sent_at) AS last_sent_at,
    max(answered_at) AS last_answered_at
FROM pact_requests
WHERE $product = '' OR root_product_id = $product
GROUP BY partner, company_id
ORDER BY open DESC, asked_share_pct DESC, partner, company_id
