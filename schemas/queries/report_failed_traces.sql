-- report: the traces with the most failed spans in the window, for their waterfalls.
SELECT trace_id, uniqExact(span_id) AS failed_spans, max(ts) AS latest
FROM ${database}.spans
WHERE ts >= {since:DateTime64(6)} AND error_id != ''
GROUP BY trace_id
ORDER BY failed_spans DESC, latest DESC
LIMIT {limit:UInt32}
