-- title: Ingests
-- description: One row per committed ingest: when, how many documents were accepted, skipped as
-- description: duplicates or rejected, and how many warnings were raised.
-- returns: ingest_seq, ingested_at, sources, accepted, duplicates, rejected, warnings
SELECT
    ingest_seq,
    min(ingested_at) AS ingested_at,
    count(DISTINCT source) AS sources,
    count(*) FILTER (WHERE status = 'accepted') AS accepted,
    count(*) FILTER (WHERE status = 'duplicate') AS duplicates,
    count(DISTINCT concat(source, '#', CAST(document_index AS VARCHAR))) FILTER (WHERE status = 'rejected') AS rejected,
    count(*) FILTER (WHERE status = 'warning') AS warnings
FROM ingest_log
GROUP BY ingest_seq
ORDER BY ingest_seq
