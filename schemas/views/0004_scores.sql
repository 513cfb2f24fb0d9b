-- Scores at read time: nothing stored is ever updated. A score re-sent with the same id
-- replaces the earlier one by arrival (argMax over when it was sent, then its offset), and a score
-- that arrived before its trace joins the trace's calls once they are stored.

-- The content checks' `code` scores, one BOOLEAN score per check, in `scores`' columns: kept one row per
-- checked call in content_checks (migration 0015), where storing them costs the daemon a fraction of a
-- row of `scores` each. Each score's id is its call's provenance and the check, so a call stored twice
-- is still one score per check.
CREATE OR REPLACE VIEW ${database}.check_scores AS
SELECT
    ts, concat(topic, ':', toString(partition), ':', toString(offset), ':', name) AS score_id, trace_id, span_id,
    name, 'code' AS source, 'BOOLEAN' AS data_type, toFloat64(pass) AS value, '' AS string_value,
    if(pass, 'pass', 'fail') AS label, comment, '' AS judge_model, scorer_version, prompt_version, model, service,
    session_id, user_id, toDateTime64(ts, 3, 'UTC') AS sent_at, topic, partition, offset
FROM ${database}.content_checks
ARRAY JOIN names AS name, passed AS pass, details AS comment;

-- Each score once: its latest arrival under its id (a score without an id is its own message,
-- so a message stored twice is still one score).
CREATE OR REPLACE VIEW ${database}.score_latest AS
SELECT
    key,
    argMax(score_id, arrived) AS score_id,
    argMax(ts, arrived) AS ts,
    argMax(trace_id, arrived) AS trace_id,
    argMax(span_id, arrived) AS span_id,
    argMax(name, arrived) AS name,
    argMax(source, arrived) AS source,
    argMax(data_type, arrived) AS data_type,
    argMax(value, arrived) AS value,
    argMax(string_value, arrived) AS string_value,
    argMax(label, arrived) AS label,
    argMax(comment, arrived) AS comment,
    argMax(judge_model, arrived) AS judge_model,
    argMax(scorer_version, arrived) AS scorer_version,
    argMax(prompt_version, arrived) AS prompt_version,
    argMax(model, arrived) AS model,
    argMax(service, arrived) AS service,
    argMax(session_id, arrived) AS session_id,
    argMax(user_id, arrived) AS user_id,
    max(arrived) AS arrival,
    count() AS versions
FROM
(
    SELECT
        *,
        if(score_id != '', score_id, concat(topic, ':', toString(partition), ':', toString(offset))) AS key,
        (sent_at, offset) AS arrived
    FROM
    (
        -- the scores received, and the content checks' (the view above)
        SELECT ts, score_id, trace_id, span_id, name, source, data_type, value, string_value, label, comment,
               judge_model, scorer_version, prompt_version, model, service, session_id, user_id, sent_at, topic,
               partition, offset
        FROM ${database}.scores
        UNION ALL
        SELECT * FROM ${database}.check_scores
    )
)
GROUP BY key;

-- The latest value per trace, span, name and source, with what the trace's calls say about it
-- (model and prompt_version when the score did not carry them; trace_seen once any call or log
-- line of the trace is stored).
CREATE OR REPLACE VIEW ${database}.trace_scores AS
SELECT
    latest.trace_id AS trace_id,
    latest.span_id AS span_id,
    latest.name AS name,
    latest.source AS source,
    latest.ts AS ts,
    latest.score_id AS score_id,
    latest.data_type AS data_type,
    latest.value AS value,
    latest.string_value AS string_value,
    latest.label AS label,
    latest.comment AS comment,
    latest.judge_model AS judge_model,
    latest.scorer_version AS scorer_version,
    if(latest.model != '', latest.model, traces.model) AS model,
    if(latest.prompt_version != '', latest.prompt_version, traces.prompt_version) AS prompt_version,
    if(latest.service != '', latest.service, traces.service) AS service,
    latest.session_id AS session_id,
    latest.user_id AS user_id,
    latest.scores AS scores,
    traces.seen AS trace_seen,
    traces.started AS trace_started
FROM
(
    SELECT
        trace_id, span_id, name, source,
        argMax(ts, latest_by) AS ts,
        argMax(score_id, latest_by) AS score_id,
        argMax(data_type, latest_by) AS data_type,
        argMax(value, latest_by) AS value,
        argMax(string_value, latest_by) AS string_value,
        argMax(label, latest_by) AS label,
        argMax(comment, latest_by) AS comment,
        argMax(judge_model, latest_by) AS judge_model,
        argMax(scorer_version, latest_by) AS scorer_version,
        argMax(model, latest_by) AS model,
        argMax(prompt_version, latest_by) AS prompt_version,
        argMax(service, latest_by) AS service,
        argMax(session_id, latest_by) AS session_id,
        argMax(user_id, latest_by) AS user_id,
        count() AS scores
    FROM (SELECT *, (ts, arrival) AS latest_by FROM ${database}.score_latest)
    GROUP BY trace_id, span_id, name, source
) AS latest
LEFT JOIN
(
    SELECT
        trace_id,
        argMinIf(model, ts, model != '') AS model,
        argMinIf(prompt_version, ts, prompt_version != '') AS prompt_version,
        argMinIf(service, ts, service != '') AS service,
        min(ts) AS started,
        toUInt8(1) AS seen
    FROM
    (
        SELECT trace_id, ts, model, prompt_version, service FROM ${database}.usage_metrics WHERE trace_id != ''
        UNION ALL
        SELECT trace_id, ts, model, '' AS prompt_version, service FROM ${database}.log_events WHERE trace_id != ''
    )
    GROUP BY trace_id
) AS traces ON traces.trace_id = latest.trace_id;

-- Calls that returned without an error but failed a content check (correlator's own finding,
-- stored on the row: `content_failure` is the rule). They are failures in errors,
-- error_rates_5m and model_health_1h too.
-- SELECT * FROM content_failures(since = '2026-11-22 10:00:00')
CREATE OR REPLACE VIEW ${database}.content_failures AS
SELECT
    ts, trace_id, span_id, error_id, service, model, prompt_version, finish_reason,
    category, error_class, rule, rules_version, topic, partition, offset
FROM ${database}.usage_metrics
WHERE ts >= {since:DateTime64(6)} AND attributes['content_failure'] != ''
ORDER BY ts
LIMIT 1 BY topic, partition, offset;

-- Per 15-minute window, score name, model and prompt_version: how many traces were evaluated
-- and how many passed (a BOOLEAN when true, a NUMERIC at or above its scorer's threshold: the scorers
-- file's, else ${eval_pass_threshold}; at or below it for a lower-is-better scorer; any score labelled
-- pass). Each trace, span and source counts once, with its latest value. `threshold` is the one applied.
-- SELECT * FROM eval_pass_rate(since = '2026-11-22 10:00:00')
CREATE OR REPLACE VIEW ${database}.eval_pass_rate AS
SELECT
    toStartOfFifteenMinutes(ts) AS window,
    name,
    model,
    prompt_version,
    count() AS evaluated,
    countIf(multiIf(data_type = 'BOOLEAN', value = 1, data_type = 'NUMERIC', ${scorer_numeric_passes},
                    label = 'pass')) AS passed,
    passed / evaluated AS pass_rate,
    ${scorer_pass_threshold} AS threshold
FROM ${database}.trace_scores
WHERE ts >= {since:DateTime64(6)} AND (data_type IN ('BOOLEAN', 'NUMERIC') OR label IN ('pass', 'fail'))
GROUP BY window, name, model, prompt_version
ORDER BY window, name, model, prompt_version;
