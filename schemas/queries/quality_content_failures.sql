-- correlator incidents and report, quality: calls that returned but failed a content check since a
-- time, by class and model, largest first.
SELECT category, error_class, model, count() AS failures, groupUniqArray(rule) AS rules, max(ts) AS latest,
       argMax(trace_id, ts) AS latest_trace_id
FROM ${database}.content_failures(since = {since:DateTime64(6)})
GROUP BY category, error_class, model
ORDER BY failures DESC, error_class, model
LIMIT 50
