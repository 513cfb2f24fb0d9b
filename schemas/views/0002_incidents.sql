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

-- Failures since a time grouped the way Sentry groups events: by the fingerprint of the
-- root cause computed at insert (its type, its normalised message, its innermost in-app
-- frame). A group with no failure before `since` is new.
-- SELECT * FROM error_groups(since = '2026-11-22 10:00:00')
CREATE OR REPLACE VIEW ${database}.error_groups AS
SELECT
    fingerprint,
    any(root_cause_type) AS root_cause_type,
    any(message_template) AS message_template,
    argMax(root_cause_message, first_seen) AS example_message,  -- the latest, as stored (redacted)
    any(root_cause_frame) AS in_app_frame,
    count() AS failures,
    min(first_seen) AS group_first_seen,
    max(first_seen) AS group_last_seen,
    fingerprint NOT IN (
        SELECT fingerprint FROM ${database}.log_events WHERE ts < {since:DateTime64(6)} AND fingerprint != ''
        UNION ALL
        SELECT fingerprint FROM ${database}.usage_metrics WHERE ts < {since:DateTime64(6)} AND fingerprint != ''
    ) AS is_new,
    groupUniqArray(10)(model) AS models,
    groupUniqArray(10)(service) AS services,
    topK(1)(category)[1] AS category,
    topK(1)(error_class)[1] AS error_class,
    arraySlice(groupArray(error_id), 1, 5) AS example_error_ids
FROM ${database}.errors_window(since = {since:DateTime64(6)}, until = '2299-12-31 00:00:00')
WHERE fingerprint != ''  -- a failure with no cause has nothing to group by
GROUP BY fingerprint
ORDER BY failures DESC;

-- Per 5-minute window since a time, and model: error rate against a sustained threshold
-- (warn above ${spike_warn_rate} for ${spike_sustained_windows} windows, page above ${spike_page_rate}) and against the
-- trailing 24-hour baseline (jump: ${spike_jump_factor}x the baseline, at least ${spike_min_errors} errors).
-- SELECT * FROM error_spikes(since = '2026-11-22 10:00:00')
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
        FROM
        (
            -- the window and the day before it, each call once (usage rows and LLM spans)
            SELECT ts, model, success
            FROM ${database}.calls_since(since = toStartOfFiveMinutes({since:DateTime64(6)}) - INTERVAL 1 DAY)
        )
        GROUP BY window, model
    )
    WINDOW
        sustained AS (PARTITION BY model ORDER BY window
                      RANGE BETWEEN ${spike_sustained_seconds} PRECEDING AND CURRENT ROW),
        trailing_day AS (PARTITION BY model ORDER BY window RANGE BETWEEN 86400 PRECEDING AND 1 PRECEDING)
)
WHERE alert != '' AND window >= toStartOfFiveMinutes({since:DateTime64(6)})
ORDER BY window, model;

-- Cost per hour since a time, by model and service, against its trailing 7-day hourly mean
-- (hours with no calls count as zero): warn at ${cost_warn_factor}x, page at ${cost_page_factor}x. A runaway agent
-- loop shows here. SELECT * FROM cost_anomalies(since = '2026-11-22 00:00:00')
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
        -- the hours judged count each call once (usage rows and LLM spans: `calls`); the week before
        -- them, only an average to compare with, sums the usage rows as stored (cheaper by 5x) and the
        -- LLM spans no usage row reports
        SELECT toStartOfHour(ts) AS hour, model, service, sum(ifNull(cost_usd, 0)) AS cost_usd, count() AS calls
        FROM ${database}.calls_since(since = toStartOfHour({since:DateTime64(6)}))
        GROUP BY hour, model, service
        UNION ALL
        SELECT toStartOfHour(ts) AS hour, model, service, sum(ifNull(cost_usd, 0)) AS cost_usd, count() AS calls
        FROM
        (
            SELECT ts, model, service, toNullable(cost_usd) AS cost_usd FROM ${database}.usage_metrics
            WHERE ts >= toStartOfHour({since:DateTime64(6)}) - INTERVAL 7 DAY AND ts < toStartOfHour({since:DateTime64(6)})
            UNION ALL
            SELECT ts, model, service, cost_usd
            FROM ${database}.span_calls_since(since = toStartOfHour({since:DateTime64(6)}) - INTERVAL 7 DAY)
            WHERE ts < toStartOfHour({since:DateTime64(6)})
        )
        GROUP BY hour, model, service
    )
    WINDOW
        trailing_week AS (PARTITION BY model, service ORDER BY hour RANGE BETWEEN 604800 PRECEDING AND 1 PRECEDING),
        history AS (PARTITION BY model, service ORDER BY hour ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
)
WHERE baseline_hourly_cost_usd > 0 AND cost_usd >= ${cost_warn_factor} * baseline_hourly_cost_usd
  AND hour >= toStartOfHour({since:DateTime64(6)})
ORDER BY hour, model, service;
