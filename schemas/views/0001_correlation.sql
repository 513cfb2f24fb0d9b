-- Views: correlation and incident answers, merged at read time. Views are derived, not
-- data: `correlator migrate` re-creates every file in schemas/views each time it runs and
-- finds the schema changed (warehouse/migrate.py's fingerprint).
-- A message stored twice (same topic, partition, offset) is one row in every view:
-- aggregates over error_id are idempotent (min, max, argMin), counts go through
-- LIMIT 1 BY provenance.

CREATE OR REPLACE VIEW ${database}.dead_letters AS
SELECT received_at, topic, partition, offset, reason, detail, raw
FROM ${database}.dead_letter_log
ORDER BY received_at
LIMIT 1 BY topic, partition, offset;

-- Every failure-bearing row of both streams, keyed by error_id; `label` is what the row says
-- of the failure, its 9th element what that rests on (the `evidence` column, 0006_evidence.sql).
CREATE OR REPLACE VIEW ${database}.error_evidence AS
SELECT
    error_id, ts, trace_id, service, model,
    '' AS original_error,
    0 AS from_metrics,
    (category, error_class, rule, root_cause_type, root_cause_message, root_cause_frame, fingerprint,
     message_template, evidence) AS label,
    nan AS duration_seconds, nan AS cost_usd,
    topic, partition, offset
FROM ${database}.log_events
WHERE error_id != ''
UNION ALL
SELECT
    error_id, ts, trace_id, service, model,
    error AS original_error,
    1 AS from_metrics,
    (category, error_class, rule, '', error_detail, '', fingerprint, message_template, evidence) AS label,
    duration_seconds, cost_usd,
    topic, partition, offset
FROM ${database}.usage_metrics
WHERE error_id != '' AND NOT success
UNION ALL
-- a failed OpenTelemetry span: root-cause evidence like a log line's (keyed by trace and span without an error_id)
SELECT
    error_id, ts, trace_id, service, model,
    '' AS original_error,
    0 AS from_metrics,
    (category, error_class, rule, root_cause_type, root_cause_message, root_cause_frame, fingerprint,
     message_template, evidence) AS label,
    nan AS duration_seconds, nan AS cost_usd,
    topic, partition, offset
FROM ${database}.spans
WHERE error_id != '';

-- One row per error_id first seen in [since, until), whichever stream delivered it first.
-- Only error_ids with evidence in the window are aggregated, so a window reads little.
-- The final label prefers a finish reason on the metrics row (length, content_filter: a
-- truncation that then broke parsing is a truncation), then the correlated log line's
-- root cause, then the metrics row's own label, then unknown: by each row's evidence
-- (correlator.processing.classify.Evidence), 'none' for no label or unknown.
CREATE OR REPLACE VIEW ${database}.errors_window AS
WITH
    metrics_cause.9 = 'finish_reason' AS label_from_finish_reason,
    log_cause.9 NOT IN ('', 'none') AS label_from_log,  -- '': no such row
    metrics_cause.9 NOT IN ('', 'none') AS label_from_metrics,
    multiIf(label_from_finish_reason, metrics_cause, label_from_log, log_cause, label_from_metrics, metrics_cause,
            ('unknown', 'unknown', if(log_cause.3 != '', log_cause.3, if(metrics_cause.3 != '', metrics_cause.3, 'no-evidence')),
             '', '', '', '', '', 'none')) AS final,
    if(log_cause.7 != '', log_cause, metrics_cause) AS cause
SELECT
    error_id,
    trace_id,
    first_seen,
    last_seen,
    service,
    model,
    original_error,
    final.1 AS category,
    final.2 AS error_class,
    toUInt8(has_metrics AND label_from_log AND NOT label_from_finish_reason AND log_cause.2 != metrics_cause.2) AS reclassified,
    if(log_cause.4 != '', log_cause.4, metrics_cause.4) AS root_cause_type,
    if(log_cause.5 != '', log_cause.5, metrics_cause.5) AS root_cause_message,
    log_cause.6 AS root_cause_frame,
    cause.7 AS fingerprint,
    cause.8 AS message_template,
    final.3 AS rule,
    final.9 AS evidence,
    has_metrics,
    log_lines,
    called_at,
    duration_seconds,
    cost_usd
FROM
(
    SELECT
        error_id,
        max(trace_id) AS trace_id,
        min(ts) AS first_seen,
        max(ts) AS last_seen,
        max(service) AS service,
        max(model) AS model,
        maxIf(original_error, from_metrics = 1) AS original_error,
        argMinIf(label, (label.9 = 'none', ts), from_metrics = 0) AS log_cause,
        argMinIf(label, ts, from_metrics = 1) AS metrics_cause,
        toUInt8(max(from_metrics)) AS has_metrics,
        uniqExactIf((topic, partition, offset), from_metrics = 0) AS log_lines,
        minIf(ts, from_metrics = 1) AS called_at,
        maxIf(duration_seconds, from_metrics = 1) AS duration_seconds,
        maxIf(cost_usd, from_metrics = 1) AS cost_usd
    FROM ${database}.error_evidence
    WHERE error_id IN (
        SELECT error_id FROM ${database}.error_evidence
        WHERE ts >= {since:DateTime64(6)} AND ts < {until:DateTime64(6)}
    )
    GROUP BY error_id
    HAVING first_seen >= {since:DateTime64(6)} AND first_seen < {until:DateTime64(6)}
);

-- Every failure, all time: SELECT ... FROM errors WHERE error_id = '...'
CREATE OR REPLACE VIEW ${database}.errors AS
SELECT * FROM ${database}.errors_window(since = '1970-01-01 00:00:00', until = '2299-12-31 00:00:00');

CREATE OR REPLACE VIEW ${database}.unknown_errors AS
SELECT * FROM ${database}.errors WHERE error_class = 'unknown';

-- SELECT * FROM trace_timeline(trace_id = '...'): every log line and metrics row of a trace.
CREATE OR REPLACE VIEW ${database}.trace_timeline AS
SELECT * FROM
(
    SELECT
        ts, 'log' AS kind, service, level AS status, model, message, error_id, span_id,
        category, error_class, root_cause_type, root_cause_message,
        nan AS duration_seconds, toUInt32(0) AS input_tokens, toUInt32(0) AS output_tokens, nan AS cost_usd,
        topic, partition, offset, record_index
    FROM ${database}.log_events
    WHERE trace_id = {trace_id:String}
    UNION ALL
    SELECT
        ts, 'usage' AS kind, service, if(success, 'success', 'failure') AS status, model,
        if(success, '', error) AS message, error_id, span_id,
        category, error_class, '' AS root_cause_type, error_detail AS root_cause_message,
        duration_seconds, input_tokens, output_tokens, cost_usd,
        topic, partition, offset, toUInt32(0) AS record_index
    FROM ${database}.usage_metrics
    WHERE trace_id = {trace_id:String}
    UNION ALL
    SELECT
        ts, 'span' AS kind, service, status, model, name AS message, error_id, span_id,
        category, error_class, root_cause_type, root_cause_message,
        duration_ms / 1000 AS duration_seconds, input_tokens, output_tokens, nan AS cost_usd,
        topic, partition, offset, record_index
    FROM ${database}.spans
    WHERE trace_id = {trace_id:String}
)
ORDER BY ts, kind, offset, record_index
LIMIT 1 BY topic, partition, offset, record_index;

CREATE OR REPLACE VIEW ${database}.usage_calls AS
SELECT * FROM ${database}.usage_metrics LIMIT 1 BY topic, partition, offset;

-- Every LLM call once: each usage row, and each LLM span (step 'llm': a chat, completion, generation or
-- embeddings span of the GenAI conventions, OpenLLMetry, OpenInference or Langfuse) that no usage row
-- reports. An application sending both for one call joins them by the span: a usage row with the span's
-- trace_id and span_id, or (for a failure) the span's error_id, is that span's call, and the usage row is
-- the one counted (it carries the application's own label and cost). A span re-delivered is one call
-- (LIMIT 1 BY its trace and span id); a span's cost is NULL when its instrumentation gave none.
-- SELECT * FROM span_calls_since(since = '...'): the LLM spans from then on that are calls of their own.
CREATE OR REPLACE VIEW ${database}.span_calls_since AS
SELECT
    ts, model, provider, service, error_id = '' AS success, duration_ms / 1000 AS duration_seconds,
    input_tokens, output_tokens, cost_usd, ttft_ms, error_id, trace_id, span_id, session_id, user_id,
    'span' AS source, topic, partition, offset, record_index
FROM ${database}.spans
WHERE step = 'llm' AND ts >= {since:DateTime64(6)}
  -- the usage rows looked at are those of the LLM spans' traces and failures (bloom filters on both ids), so a
  -- warehouse with few spans, or none, does not read every usage row's ids for each query of `calls`
  AND (trace_id, span_id) NOT IN (
      SELECT trace_id, span_id FROM ${database}.usage_metrics
      WHERE span_id != '' AND trace_id IN (SELECT trace_id FROM ${database}.spans WHERE step = 'llm'))
  AND (error_id = '' OR error_id NOT IN (
      SELECT error_id FROM ${database}.usage_metrics
      WHERE error_id IN (SELECT error_id FROM ${database}.spans WHERE step = 'llm' AND error_id != '')))
LIMIT 1 BY trace_id, span_id;

-- SELECT * FROM calls_since(since = '...'): the calls from then on (the time is filtered before each stored
-- message is taken once: a filter on `calls` cannot pass that LIMIT BY, and would read every usage row).
CREATE OR REPLACE VIEW ${database}.calls_since AS
SELECT
    ts, model, provider, service, success, duration_seconds, input_tokens, output_tokens,
    toNullable(cost_usd) AS cost_usd, ttft_ms, error_id, trace_id, span_id, session_id, user_id,
    'usage' AS source, topic, partition, offset, toUInt32(0) AS record_index
FROM ${database}.usage_metrics
WHERE ts >= {since:DateTime64(6)}
LIMIT 1 BY topic, partition, offset
UNION ALL
SELECT * FROM ${database}.span_calls_since(since = {since:DateTime64(6)});

-- Every call, all time: SELECT ... FROM calls WHERE ...
CREATE OR REPLACE VIEW ${database}.calls AS
SELECT * FROM ${database}.calls_since(since = '1970-01-01 00:00:00');

-- Per 5-minute window and model: how many calls, and how many failed with each final label.
CREATE OR REPLACE VIEW ${database}.error_rates_5m AS
SELECT
    failures.window AS window,
    failures.model AS model,
    failures.category AS category,
    failures.error_class AS error_class,
    calls.calls AS calls,
    failures.errors AS errors,
    failures.errors / calls.calls AS error_rate
FROM
(
    -- a usage row's failure at its call's time; a failed LLM span's (a call of `calls`) when it was first seen
    SELECT toStartOfFiveMinutes(if(has_metrics, called_at, first_seen)) AS window, model, category, error_class,
           count() AS errors
    FROM ${database}.errors
    WHERE has_metrics
       OR error_id IN (SELECT error_id FROM ${database}.span_calls_since(since = '1970-01-01 00:00:00') WHERE NOT success)
    GROUP BY window, model, category, error_class
) AS failures
INNER JOIN
(
    SELECT toStartOfFiveMinutes(ts) AS window, model, count() AS calls
    FROM ${database}.calls
    GROUP BY window, model
) AS calls USING (window, model)
ORDER BY window, model, errors DESC;

-- Per hour and model, every call of `calls` (usage rows and the LLM spans no usage row reports). Time to
-- first token is NULL where a call did not measure one: the percentiles skip it, and are NULL when nothing
-- was measured (a 0 would pull them down).
CREATE OR REPLACE VIEW ${database}.model_health_1h AS
SELECT
    toStartOfHour(ts) AS hour,
    model,
    count() AS calls,
    countIf(NOT success) AS errors,
    errors / calls AS error_rate,
    quantile(0.50)(duration_seconds) AS latency_p50,
    quantile(0.95)(duration_seconds) AS latency_p95,
    quantile(0.99)(duration_seconds) AS latency_p99,
    sum(input_tokens) AS input_tokens,
    sum(output_tokens) AS output_tokens,
    sum(ifNull(cost_usd, 0)) AS cost_usd,
    quantile(0.50)(ttft_ms) AS ttft_p50_ms,
    quantile(0.99)(ttft_ms) AS ttft_p99_ms
FROM ${database}.calls
GROUP BY hour, model
ORDER BY hour, model;

CREATE OR REPLACE VIEW ${database}.reclassifications AS
SELECT original_error, category, error_class, count() AS errors, sum(reclassified) AS reclassified
FROM ${database}.errors
WHERE has_metrics
GROUP BY original_error, category, error_class
ORDER BY errors DESC;
