-- Traces waiting for a person since a time, one row each, worst first. Reasons, by severity:
-- safety (a failure TAXONOMY names a safety class: content_filter, refusal; or a failed score of a
-- safety scorer, the scorers file's), content_failure (a call that returned but failed a content
-- check), low_score (a judge's or a check's score that did not pass its scorer's threshold: under it, or
-- over it for a lower-is-better scorer; the content checks' own scores are content failures already),
-- sampled (an
-- ordinary trace in the calibration sample: chosen by a hash of its id, so the same trace is
-- chosen every time). A trace with a human review verdict has left the queue.
-- (Inside, each candidate's columns are named apart from the answer's, which aggregate them. The worst
-- candidate's columns come from one aggregate, the least tuple led by its rank: four argMin cost four times.)
SELECT
    trace_id,
    min((rank, kind, span, call_model, why)).2 AS reason,
    -- the reasons in order of severity, from a bit per severity (an array per trace costs more)
    arrayFilter((r, i) -> bitTest(groupBitOr(bitShiftLeft(toUInt8(1), severity)), i),
                ['safety', 'content_failure', 'low_score', 'sampled'], range(4)) AS all_reasons,
    if(length(all_reasons) > 1, arrayFilter(r -> r != 'sampled', all_reasons), all_reasons) AS reasons,
    min((rank, kind, span, call_model, why)).3 AS span_id,
    min((rank, kind, span, call_model, why)).4 AS model,
    min((rank, kind, span, call_model, why)).5 AS detail,
    min(value) AS worst_score,
    max(at) AS latest
FROM
(
    SELECT trace_id, kind, severity, (severity, quality, -toUnixTimestamp64Micro(at)) AS rank,
           span, call_model, why, value, at
    FROM
    (
        SELECT trace_id, 'safety' AS kind, 0 AS severity, '' AS span, model AS call_model,
               concat(label.1, '/', label.2, ' (', label.3, ')') AS why, 0.0 AS value, 0.0 AS quality, ts AS at
        FROM ${database}.error_evidence
        WHERE ts >= {since:DateTime64(6)} AND trace_id != '' AND label.2 IN ('content_filter', 'refusal')
        UNION ALL
        SELECT trace_id, 'content_failure', 1, span_id, model, concat(category, '/', error_class, ' (', rule, ')'),
               0.0, 0.0, ts
        FROM ${database}.content_failures(since = {since:DateTime64(6)})
        WHERE trace_id != ''
        UNION ALL
        -- as trace_scores has it (each score id's latest sending, then the latest per trace, span, name and
        -- source), over the window's scores only; each picked by sorting and LIMIT 1 BY, not argMax: seventeen
        -- argMax over tuples of times and offsets were most of a week's queue (benchmarks/review_queries.py)
        -- a safety scorer's failed score (a judge's as well as a check's) is a safety reason
        SELECT trace_id, if(has({safety_scorers:Array(String)}, name), 'safety', 'low_score'),
               if(has({safety_scorers:Array(String)}, name), 0, 2), span_id, model,
               concat(name, ' = ', if(data_type = 'CATEGORICAL', string_value, toString(round(value, 3))),
                      if(label != '', concat(' ', label), ''), ' (', source, ')'),
               if(data_type = 'CATEGORICAL', 0.0, value),
               -- worst first: a lower-is-better value (toxicity) ranks as 1 - value on the 0-1 scale
               multiIf(data_type = 'CATEGORICAL', 0.0, has({lower_is_better:Array(String)}, name), 1 - value, value),
               ts
        FROM
        (
            SELECT trace_id, span_id, name, source, data_type, value, string_value, label, model, ts
            FROM
            (
                -- only the scores of a trace, span, name and source with some failing value in the window: a
                -- latest value that fails is one of those (and they are few). Matched by a hash of the four: a
                -- set of numbers is probed five times faster than one of string tuples, and a collision only
                -- lets in a score that the cut below then judges by its real key
                SELECT trace_id, span_id, name, source, data_type, value, string_value, label, model, ts, sent_at,
                       offset
                FROM ${database}.scores
                WHERE ts >= {since:DateTime64(6)} AND source != 'human'
                  AND scorer_version != {content_checks:String}
                  AND cityHash64(trace_id, span_id, name, source) IN (
                      SELECT cityHash64(trace_id, span_id, name, source) FROM ${database}.scores
                      WHERE ts >= {since:DateTime64(6)} AND source != 'human'
                        AND scorer_version != {content_checks:String}
                        AND multiIf(data_type = 'BOOLEAN', value = 0, data_type = 'NUMERIC',
                                    (value - transform(name, {threshold_names:Array(String)},
                                                       {threshold_values:Array(Float64)}, {threshold:Float64}))
                                        * if(has({lower_is_better:Array(String)}, name), -1, 1) < 0,
                                    label = 'fail'))
                ORDER BY sent_at DESC, offset DESC
                LIMIT 1 BY if(score_id != '', score_id, concat(topic, ':', toString(partition), ':', toString(offset)))
            )
            ORDER BY ts DESC, sent_at DESC, offset DESC
            LIMIT 1 BY trace_id, span_id, name, source
        )
        WHERE multiIf(data_type = 'BOOLEAN', value = 0, data_type = 'NUMERIC',
                      -- under its threshold, or over it for a lower-is-better scorer
                      (value - transform(name, {threshold_names:Array(String)}, {threshold_values:Array(Float64)},
                                         {threshold:Float64}))
                          * if(has({lower_is_better:Array(String)}, name), -1, 1) < 0,
                      label = 'fail')
        UNION ALL
        SELECT trace_id, 'sampled', 3, '', any(model), 'calibration sample', 1.0, 1.0, max(ts)
        FROM ${database}.usage_metrics
        WHERE ts >= {since:DateTime64(6)} AND trace_id != ''
          AND cityHash64(trace_id) % 1000000 < {sample_per_million:UInt32}
        GROUP BY trace_id
    )
    WHERE trace_id NOT IN (SELECT trace_id FROM ${database}.scores WHERE source = 'human' AND name = 'review')
)
GROUP BY trace_id
HAVING {reason:String} = '' OR has(reasons, {reason:String})
ORDER BY min((rank, kind, span, call_model, why)).1, trace_id
LIMIT {limit:UInt32}
