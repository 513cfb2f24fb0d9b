-- Traces waiting for a person since a time, one row each, worst first. Reasons, by severity:
-- safety (a failure TAXONOMY names a safety class: content_filter, refusal), content_failure (a
-- call that returned but failed a content check), low_score (a judge's or a check's score that
-- did not pass; the content checks' own scores are content failures already), sampled (an
-- ordinary trace in the calibration sample: chosen by a hash of its id, so the same trace is
-- chosen every time). A trace with a human review verdict has left the queue.
-- (Inside, each candidate's columns are named apart from the answer's, which aggregate them.)
SELECT
    trace_id,
    argMin(kind, rank) AS reason,
    arrayMap(r -> r.2, arraySort(groupUniqArray((severity, kind)))) AS all_reasons,
    if(length(all_reasons) > 1, arrayFilter(r -> r != 'sampled', all_reasons), all_reasons) AS reasons,
    argMin(span, rank) AS span_id,
    argMin(call_model, rank) AS model,
    argMin(why, rank) AS detail,
    min(value) AS worst_score,
    max(at) AS latest
FROM
(
    SELECT trace_id, kind, severity, (severity, value, -toUnixTimestamp64Micro(at)) AS rank,
           span, call_model, why, value, at
    FROM
    (
        SELECT trace_id, 'safety' AS kind, 0 AS severity, '' AS span, model AS call_model,
               concat(category, '/', error_class, ' (', rule, ')') AS why, 0.0 AS value, first_seen AS at
        FROM ${database}.errors_window(since = {since:DateTime64(6)}, until = '2299-12-31 00:00:00')
        WHERE trace_id != '' AND error_class IN ('content_filter', 'refusal')
        UNION ALL
        SELECT trace_id, 'content_failure', 1, span_id, model, concat(category, '/', error_class, ' (', rule, ')'),
               0.0, ts
        FROM ${database}.content_failures(since = {since:DateTime64(6)})
        WHERE trace_id != ''
        UNION ALL
        SELECT trace_id, 'low_score', 2, span_id, model,
               concat(name, ' = ', if(data_type = 'CATEGORICAL', string_value, toString(round(value, 3))),
                      if(label != '', concat(' ', label), ''), ' (', source, ')'),
               if(data_type = 'CATEGORICAL', 0.0, value), ts
        FROM ${database}.trace_scores
        WHERE ts >= {since:DateTime64(6)} AND source != 'human' AND scorer_version != {content_checks:String}
          AND multiIf(data_type = 'BOOLEAN', value = 0, data_type = 'NUMERIC', value < {threshold:Float64},
                      label = 'fail')
        UNION ALL
        SELECT trace_id, 'sampled', 3, '', any(model), 'calibration sample', 1.0, max(ts)
        FROM ${database}.usage_metrics
        WHERE ts >= {since:DateTime64(6)} AND trace_id != ''
          AND cityHash64(trace_id) % 1000000 < {sample_per_million:UInt32}
        GROUP BY trace_id
    )
    WHERE trace_id NOT IN (SELECT trace_id FROM ${database}.scores WHERE source = 'human' AND name = 'review')
)
GROUP BY trace_id
HAVING {reason:String} = '' OR has(reasons, {reason:String})
ORDER BY min(rank), trace_id
LIMIT {limit:UInt32}
