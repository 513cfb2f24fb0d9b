-- The content checks' results, made by the engine from the usage-metrics rows as they are inserted:
-- the daemon stores each call's checks on its row (attributes['content_checks'], a JSON list of
-- [check, passed, detail]) and this view copies them, with the call's keys, into content_checks
-- (migration 0015), in the same insert. A retried insert with the same deduplication token is dropped
-- before the view runs. A view, not a migration: scorer_version is rendered by `correlator migrate`
-- from correlator.processing.content.CONTENT_CHECKS_VERSION (${content_checks_version}), so a new
-- version of the checks replaces it with no SQL edited (OR REPLACE swaps it in one step).
CREATE OR REPLACE MATERIALIZED VIEW ${database}.content_checks_from_calls TO ${database}.content_checks AS
SELECT
    ts, trace_id, span_id, checks.1 AS names, checks.2 AS passed, checks.3 AS details,
    ${content_checks_version} AS scorer_version, prompt_version, model, service, session_id, user_id,
    topic, partition, offset
FROM
(
    SELECT ts, trace_id, span_id, prompt_version, model, service, session_id, user_id, topic, partition, offset,
           JSONExtract(attributes['content_checks'], 'Array(Tuple(String, Bool, String))') AS checks
    FROM ${database}.usage_metrics
    WHERE attributes['content_checks'] != ''
);

-- Migration 0012's view, which wrote each check as a row of `scores`: dropped once the view above is
-- there, so no call goes unscored in between (a call scored by both is one score at read time: the
-- same score id).
DROP VIEW IF EXISTS ${database}.content_check_scores;
