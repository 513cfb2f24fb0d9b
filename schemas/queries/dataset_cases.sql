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
    )
    GROUP BY trace_id
) AS failure
FULL OUTER JOIN
(
    SELECT
        trace_id,
        toUInt8(1) AS reviewed,
        toUInt8(argMax(value, ts) = 1) AS passed,
        argMax(span_id, ts) AS span_id,
        argMax(if(label IN ('pass', 'fail'), '', label), ts) AS mode,
        argMax(comment, ts) AS note
    FROM ${database}.trace_scores
    WHERE source = 'human' AND name = 'review' AND ts >= {since:DateTime64(6)}
    GROUP BY trace_id
) AS verdict ON verdict.trace_id = failure.trace_id
WHERE NOT review_passed
  AND ({reviewed:UInt8} = 0 OR reviewed = 1)
  AND (failure.trace_id != '' OR (reviewed = 1 AND {group:String} = '' AND {class:String} = ''))
ORDER BY trace_id
