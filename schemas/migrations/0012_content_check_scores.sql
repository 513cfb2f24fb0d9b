-- The content checks' `code` scores, made by the engine from the usage-metrics rows as they are
-- inserted. The daemon stores each call's checks on its row (attributes['content_checks'], a JSON
-- list of [check, passed, detail]); this view turns them into one BOOLEAN score per check, in the
-- same insert. Built in Python and inserted as rows of their own, these scores cost 16 % of the
-- daemon's CPU per event at about two a call (benchmarks/content_checks_cost.py); here about a
-- fifth of that. The same insert retried under its deduplication token is dropped before this view
-- runs, and each score's id is its call's provenance and the check, so a call read twice is still
-- one score per check. scorer_version is correlator.processing.scores.CONTENT_CHECKS_VERSION: a
-- check that changes what it finds needs a new migration replacing this view.
CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.content_check_scores TO ${database}.scores AS
SELECT
    ts, concat(topic, ':', toString(partition), ':', toString(offset), ':', check.1) AS score_id, trace_id, span_id,
    check.1 AS name, 'code' AS source, 'BOOLEAN' AS data_type, toFloat64(check.2) AS value, '' AS string_value,
    if(check.2, 'pass', 'fail') AS label, check.3 AS comment, '' AS judge_model,
    'content-checks-1' AS scorer_version, '' AS config_id, prompt_version, model, service, session_id, user_id,
    ts AS sent_at, topic, partition, offset
FROM
(
    SELECT ts, trace_id, span_id, prompt_version, model, service, session_id, user_id, topic, partition, offset,
           attributes['content_checks'] AS checks
    FROM ${database}.usage_metrics
    WHERE checks != ''
)
ARRAY JOIN JSONExtract(checks, 'Array(Tuple(String, Bool, String))') AS check;
