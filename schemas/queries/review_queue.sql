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
               concat(label.1, '/', label.2, ' (', label.3, ')') AS why, 0.0 AS value, ts AS at
        FROM ${database}.error_evidence
        WHERE ts >= {since:DateTime64(6)} AND trace_id != '' AND label.2 IN ('content_filter', 'refusal')
        UNION ALL
        SELECT trace_id, 'content_failure', 1, span_id, model, concat(category, '/', error_class, ' (', rule, ')'),
               0.0, ts
        FROM ${database}.content_failures(since = {since:DateTime64(6)})
        WHERE trace_id != ''
        UNION ALL
        -- as trace_scores has it (each score id's latest sending, then the latest per trace, span, name and
        -- source), over the window's scores only
        SELECT trace_id, 'low_score', 2, span_id, latest_model,
               concat(name, ' = ', if(latest_type = 'CATEGORICAL', latest_text, toString(round(latest_value, 3))),
                      if(latest_label != '', concat(' ', latest_label), ''), ' (', source, ')'),
               if(latest_type = 'CATEGORICAL', 0.0, latest_value), latest_ts
        FROM
        (
            SELECT trace_id, span_id, name, source,
                   argMax(sent_type, (sent_ts, arrival)) AS latest_type,
                   argMax(sent_value, (sent_ts, arrival)) AS latest_value,
                   argMax(sent_text, (sent_ts, arrival)) AS latest_text,
                   argMax(sent_label, (sent_ts, arrival)) AS latest_label,
                   argMax(sent_model, (sent_ts, arrival)) AS latest_model,
                   max(sent_ts) AS latest_ts
            FROM
            (
                SELECT argMax(trace_id, (sent_at, offset)) AS trace_id, argMax(span_id, (sent_at, offset)) AS span_id,
                       argMax(name, (sent_at, offset)) AS name, argMax(source, (sent_at, offset)) AS source,
                       argMax(ts, (sent_at, offset)) AS sent_ts, argMax(data_type, (sent_at, offset)) AS sent_type,
                       argMax(value, (sent_at, offset)) AS sent_value,
                       argMax(string_value, (sent_at, offset)) AS sent_text,
                       argMax(label, (sent_at, offset)) AS sent_label, argMax(model, (sent_at, offset)) AS sent_model,
                       max((sent_at, offset)) AS arrival
                FROM
                (
                    -- only the scores of a trace, span, name and source with some failing value in the window:
                    -- a latest value that fails is one of those (and they are few)
                    SELECT * FROM ${database}.scores
                    WHERE ts >= {since:DateTime64(6)} AND source != 'human'
                      AND scorer_version != {content_checks:String}
                      AND (trace_id, span_id, name, source) IN (
                          SELECT trace_id, span_id, name, source FROM ${database}.scores
                          WHERE ts >= {since:DateTime64(6)} AND source != 'human'
                            AND scorer_version != {content_checks:String}
                            AND multiIf(data_type = 'BOOLEAN', value = 0, data_type = 'NUMERIC',
                                        value < {threshold:Float64}, label = 'fail'))
                )
                GROUP BY if(score_id != '', score_id, concat(topic, ':', toString(partition), ':', toString(offset)))
            )
            GROUP BY trace_id, span_id, name, source
        )
        WHERE multiIf(latest_type = 'BOOLEAN', latest_value = 0, latest_type = 'NUMERIC',
                      latest_value < {threshold:Float64}, latest_label = 'fail')
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
