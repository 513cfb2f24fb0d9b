-- A finish reason on the metrics row (length, content_filter) is the first cause of what
-- follows: a truncation that then broke parsing is a truncation (TAXONOMY.md).
CREATE OR REPLACE VIEW ${database}.errors AS
WITH
    metrics_cause.3 LIKE 'finish\_reason.%' AS label_from_finish_reason,
    log_cause.2 NOT IN ('', 'unknown') AS label_from_log,
    metrics_cause.2 NOT IN ('', 'unknown') AS label_from_metrics,
    multiIf(label_from_finish_reason, metrics_cause, label_from_log, log_cause, label_from_metrics, metrics_cause,
            ('unknown', 'unknown', if(log_cause.3 != '', log_cause.3, if(metrics_cause.3 != '', metrics_cause.3, 'no-evidence')), '', '')) AS final
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
    final.3 AS rule,
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
        argMinIf(evidence, (evidence.2 IN ('', 'unknown'), ts), from_metrics = 0) AS log_cause,
        argMinIf(evidence, ts, from_metrics = 1) AS metrics_cause,
        toUInt8(max(from_metrics)) AS has_metrics,
        uniqExactIf((topic, partition, offset), from_metrics = 0) AS log_lines,
        minIf(ts, from_metrics = 1) AS called_at,
        maxIf(duration_seconds, from_metrics = 1) AS duration_seconds,
        maxIf(cost_usd, from_metrics = 1) AS cost_usd
    FROM ${database}.error_evidence
    GROUP BY error_id
);
