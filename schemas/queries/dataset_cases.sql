-- The cases of a regression dataset, one per trace: its first failure since a time (of a failure
-- group or a class, when asked) and the trace's latest human review verdict. A trace a reviewer
-- passed is not a failure; a trace a reviewer failed is one, with or without a failure correlator
-- found (a reviewer sees what no check does); with reviewed = 1 only those are cases.
SELECT
    if(failure.trace_id != '', failure.trace_id, verdict.trace_id) AS trace_id,
    failure.error_id AS error_id,
    failure.category AS category,
    failure.error_class AS error_class,
    failure.rule AS rule,
    failure.fingerprint AS fingerprint,
    failure.root_cause_type AS root_cause_type,
    failure.root_cause_message AS root_cause_message,
    verdict.reviewed AS reviewed,
    verdict.passed AS review_passed,
    verdict.span_id AS review_span_id,
    verdict.mode AS review_mode,
    verdict.note AS review_note
FROM
(
    SELECT
        trace_id,
        argMin(error_id, first_seen) AS error_id,
        argMin(category, first_seen) AS category,
        argMin(error_class, first_seen) AS error_class,
        argMin(rule, first_seen) AS rule,
        argMin(fingerprint, first_seen) AS fingerprint,
        argMin(root_cause_type, first_seen) AS root_cause_type,
        argMin(root_cause_message, first_seen) AS root_cause_message
    FROM
    (
        SELECT * FROM ${database}.errors_window(since = {since:DateTime64(6)}, until = '2299-12-31 00:00:00')
        WHERE trace_id != ''
          AND ({group:String} = '' OR fingerprint = {group:String})
          AND ({class:String} = '' OR error_class = {class:String}
               OR concat(category, '/', error_class) = {class:String})
          -- reviewed only: the reviewed traces' failures, found by error_id (the window's key, so the
          -- engine aggregates those alone)
          AND ({reviewed:UInt8} = 0 OR error_id IN (
              SELECT error_id FROM ${database}.error_evidence
              WHERE error_id != '' AND trace_id IN (
                  SELECT trace_id FROM ${database}.scores
                  WHERE name = 'review' AND source = 'human' AND ts >= {since:DateTime64(6)})))
    )
    GROUP BY trace_id
) AS failure
FULL OUTER JOIN
(
    -- each verdict id's latest sending, then the trace's latest verdict (the scores table, not trace_scores:
    -- verdicts are few, and the name is in its sort key)
    SELECT
        trace_id,
        toUInt8(1) AS reviewed,
        toUInt8(argMax(sent_value, (sent_ts, arrival)) = 1) AS passed,
        argMax(sent_span, (sent_ts, arrival)) AS span_id,
        argMax(if(sent_label IN ('pass', 'fail'), '', sent_label), (sent_ts, arrival)) AS mode,
        argMax(sent_comment, (sent_ts, arrival)) AS note
    FROM
    (
        SELECT
            argMax(trace_id, (sent_at, offset)) AS trace_id, argMax(span_id, (sent_at, offset)) AS sent_span,
            argMax(ts, (sent_at, offset)) AS sent_ts, argMax(value, (sent_at, offset)) AS sent_value,
            argMax(label, (sent_at, offset)) AS sent_label, argMax(comment, (sent_at, offset)) AS sent_comment,
            max((sent_at, offset)) AS arrival
        FROM (SELECT * FROM ${database}.scores WHERE name = 'review' AND source = 'human' AND ts >= {since:DateTime64(6)})
        GROUP BY if(score_id != '', score_id, concat(topic, ':', toString(partition), ':', toString(offset)))
    )
    GROUP BY trace_id
) AS verdict ON verdict.trace_id = failure.trace_id
WHERE NOT review_passed
  AND ({reviewed:UInt8} = 0 OR reviewed = 1)
  AND (failure.trace_id != '' OR (reviewed = 1 AND {group:String} = '' AND {class:String} = ''))
ORDER BY trace_id
