-- title: Ingest warnings and errors
-- description: What the ingests reported, most recent first: the source, the line, the JSON
-- description: pointer and the message.
-- param: limit int = 100 ; How many rows
-- returns: ingest_seq, status, kind, source, line, pointer, message, footprint_id
SELECT ingest_seq, status, kind, source, line, pointer, message, footprint_id
FROM ingest_log
WHERE status IN ('warning', 'rejected')
ORDER BY ingest_seq DESC, source, line, pointer
LIMIT $limit
