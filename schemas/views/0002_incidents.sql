-- Incident views. Thresholds come from settings (see README, "Incident thresholds"); the
-- placeholders (dollar, braces, a name) are filled in by `correlator migrate` from validated numbers.

-- Per trace, the first failure: where a debugging walk should start.
CREATE OR REPLACE VIEW ${database}.first_failures AS
SELECT
    trace_id,
    min(first_seen) AS failed_at,
    argMin(error_id, first_seen) AS error_id,
    argMin(model, first_seen) AS model,
    argMin(service, first_seen) AS service,
    argMin(category, first_seen) AS category,
    argMin(error_class, first_seen) AS error_class,
    argMin(root_cause_type, first_seen) AS root_cause_type,
    argMin(root_cause_message, first_seen) AS root_cause_message,
    count() AS failures_in_trace
FROM ${database}.errors
WHERE trace_id != ''
GROUP BY trace_id;

-- Failures grouped the way Sentry groups events: by a fingerprint of the root cause (its
-- type, its message with quoted values, hex ids and numbers normalised away, and its
-- innermost in-app frame). SELECT * FROM error_groups(since = '2026-11-22 10:00:00')
CREATE OR REPLACE VIEW ${database}.error_groups AS
SELECT
    fingerprint,
    any(root_cause_type) AS root_cause_type,
    any(message_template) AS message_template,
    any(root_cause_frame) AS in_app_frame,
    countIf(first_seen >= {since:DateTime64(6)}) AS failures,
    min(first_seen) AS group_first_seen,
    max(first_seen) AS group_last_seen,
    group_first_seen >= {since:DateTime64(6)} AS is_new,
    groupUniqArray(10)(model) AS models,
    groupUniqArray(10)(service) AS services,
    topK(1)(category)[1] AS category,
    topK(1)(error_class)[1] AS error_class,
    arraySlice(groupArrayIf(error_id, first_seen >= {since:DateTime64(6)}), 1, 5) AS example_error_ids
FROM
(
    SELECT
        *,
        replaceRegexpAll(replaceRegexpAll(replaceRegexpAll(replaceRegexpAll(
            root_cause_message,
            '\'[^\']*\'|"[^"]*"', '<str>'),
            '\\b[0-9a-fA-F]{8,}\\b|\\b[0-9a-fA-F]{8}-[0-9a-fA-F-]{27}\\b', '<hex>'),
            '\\b[A-Za-z]+[-_][A-Za-z0-9]*[0-9][A-Za-z0-9-_]*\\b', '<id>'),
            '\\d+(?:\\.\\d+)?', '<n>') AS message_template,
        lower(hex(cityHash64(root_cause_type, message_template, root_cause_frame))) AS fingerprint
    FROM ${database}.errors
    WHERE root_cause_type != '' OR root_cause_message != ''  -- a failure with no cause has nothing to group by
)
GROUP BY fingerprint
HAVING failures > 0
ORDER BY failures DESC;

-- Per 5-minute window and model: error rate against a sustained threshold (warn above
-- ${spike_warn_rate} for ${spike_sustained_windows} windows, page above ${spike_page_rate}) and against the
-- trailing 24-hour baseline (jump: ${spike_jump_factor}x the baseline, at least ${spike_min_errors} errors).
CREATE OR REPLACE VIEW ${database}.error_spikes AS
SELECT window, model, calls, errors, error_rate, sustained_rate, baseline_rate,
       multiIf(sustained_windows >= ${spike_sustained_windows} AND sustained_rate > ${spike_page_rate}, 'page',
               sustained_windows >= ${spike_sustained_windows} AND sustained_rate > ${spike_warn_rate}, 'warn',
               baseline_calls > 0 AND errors >= ${spike_min_errors} AND error_rate > ${spike_jump_factor} * baseline_rate
                   AND error_rate > ${spike_warn_rate}, 'jump', '') AS alert
FROM
(
    SELECT
        window, model, calls, errors, errors / calls AS error_rate,
        min(error_rate) OVER sustained AS sustained_rate,
        count() OVER sustained AS sustained_windows,
        sum(calls) OVER trailing_day AS baseline_calls,  -- no history, no baseline to jump against
        ifNotFinite(sum(errors) OVER trailing_day / baseline_calls, 0) AS baseline_rate
    FROM
    (
        SELECT toStartOfFiveMinutes(ts) AS window, model, count() AS calls, countIf(NOT success) AS errors
        FROM ${database}.usage_calls
        GROUP BY window, model
    )
    WINDOW
        sustained AS (PARTITION BY model ORDER BY window
                      RANGE BETWEEN ${spike_sustained_seconds} PRECEDING AND CURRENT ROW),
        trailing_day AS (PARTITION BY model ORDER BY window RANGE BETWEEN 86400 PRECEDING AND 1 PRECEDING)
)
WHERE alert != ''
ORDER BY window, model;

-- Cost per hour by model and service against its trailing 7-day hourly mean (hours with
-- no calls count as zero): warn at ${cost_warn_factor}x, page at ${cost_page_factor}x. A runaway agent loop shows here.
CREATE OR REPLACE VIEW ${database}.cost_anomalies AS
SELECT hour, model, service, cost_usd, calls, baseline_hourly_cost_usd,
       cost_usd / baseline_hourly_cost_usd AS ratio,
       multiIf(cost_usd >= ${cost_page_factor} * baseline_hourly_cost_usd, 'page', 'warn') AS alert
FROM
(
    SELECT
        hour, model, service, cost_usd, calls,
        sum(cost_usd) OVER trailing_week
            / greatest(1, least(168, dateDiff('hour', min(hour) OVER history, hour))) AS baseline_hourly_cost_usd
    FROM
    (
        SELECT toStartOfHour(ts) AS hour, model, service, sum(cost_usd) AS cost_usd, count() AS calls
        FROM ${database}.usage_calls
        GROUP BY hour, model, service
    )
    WINDOW
        trailing_week AS (PARTITION BY model, service ORDER BY hour RANGE BETWEEN 604800 PRECEDING AND 1 PRECEDING),
        history AS (PARTITION BY model, service ORDER BY hour ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
)
WHERE baseline_hourly_cost_usd > 0 AND cost_usd >= ${cost_warn_factor} * baseline_hourly_cost_usd
ORDER BY hour, model, service;
