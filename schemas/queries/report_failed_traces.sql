-- report: the traces with the most failed spans in the window, for their waterfalls.
SELECT trace_id, uniqExactIf(span_id, error_id != '') AS failed_spans, max(ts) AS latest
FROM ${database}.spans
WHERE ts >= {since:DateTime64(6)}
GROUP BY trace_id
HAVING failed_spans > 0
ORDER BY failed_spans DESC, latest DESC
LIMIT {limit:UInt32}
