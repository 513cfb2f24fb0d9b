-- Score drift at read time. Per 15-minute window since a time, score name, model and prompt_version:
-- the rolling mean over the last ${drift_window_minutes} minutes (this window and the ones before it)
-- against the 24 hours before that rolling window. Per-scorer pass thresholds and floors come from the
-- scorers file (${scorers_version}), rendered here by `correlator migrate`.
--
-- Alerts (one row each):
--   below_floor     the rolling mean of a NUMERIC scorer with a floor is under it (over it, for a scorer
--                   whose direction is lower: toxicity, hallucination_rate);
--   drift           the rolling mean is under the baseline (over it, lower-is-better) by more than
--                   ${drift_min_drop} AND by more than
--                   ${drift_sigmas} standard errors of the difference (Welch: both sides' sample variances),
--                   so a steady scorer's sampling noise stays quiet however small its windows;
--   pass_rate_drop  the rolling pass rate is under the baseline pass rate by the same two margins
--                   (binomial standard errors).
-- Means and floors read NUMERIC scores; pass rates read every score that passes or fails (BOOLEAN,
-- NUMERIC against its threshold, labelled pass/fail). Drift and pass-rate drops need at least
-- ${drift_min_samples} scores in the rolling window and in the baseline.
-- SELECT * FROM score_drift(since = '2026-11-22 10:00:00')
CREATE OR REPLACE VIEW ${database}.score_drift AS
SELECT
    window, name, model, prompt_version, alert, mean, baseline, pass_rate, baseline_pass_rate,
    evaluated, baseline_evaluated, scored, baseline_scored, floor,
    multiIf(alert = 'pass_rate_drop', baseline_pass_rate - pass_rate, alert = 'drift', direction * (baseline - mean),
            direction * (floor - mean)) AS shortfall,
    multiIf(alert = 'pass_rate_drop', pass_rate_error, alert = 'drift', mean_error, nan) AS standard_error,
    ${scorers_version} AS scorers_version
FROM
(
    SELECT
        *,
        sqrt(variance * scored / greatest(scored - 1, 1) / scored
             + baseline_variance * baseline_scored / greatest(baseline_scored - 1, 1) / baseline_scored)
            AS mean_error,
        sqrt(pass_rate * (1 - pass_rate) / evaluated
             + baseline_pass_rate * (1 - baseline_pass_rate) / baseline_evaluated) AS pass_rate_error,
        arrayJoin(arrayFilter(a -> a != '', [
            if(scored > 0 AND direction * (floor - mean) > 0, 'below_floor', ''),
            if(scored >= ${drift_min_samples} AND baseline_scored >= ${drift_min_samples}
               AND direction * (baseline - mean) > ${drift_min_drop}
               AND direction * (baseline - mean) > ${drift_sigmas} * mean_error, 'drift', ''),
            if(evaluated >= ${drift_min_samples} AND baseline_evaluated >= ${drift_min_samples}
               AND baseline_pass_rate - pass_rate > ${drift_min_drop}
               AND baseline_pass_rate - pass_rate > ${drift_sigmas} * pass_rate_error, 'pass_rate_drop', '')
        ])) AS alert
    FROM
    (
        SELECT
            window, name, model, prompt_version, floor, direction,
            sum(bucket_evaluated) OVER rolling AS evaluated,
            sum(bucket_passed) OVER rolling / evaluated AS pass_rate,
            sum(bucket_scored) OVER rolling AS scored,
            sum(bucket_total) OVER rolling / scored AS mean,
            greatest(0, sum(bucket_squares) OVER rolling / scored - mean * mean) AS variance,
            sum(bucket_evaluated) OVER trailing_day AS baseline_evaluated,
            sum(bucket_passed) OVER trailing_day / baseline_evaluated AS baseline_pass_rate,
            sum(bucket_scored) OVER trailing_day AS baseline_scored,
            sum(bucket_total) OVER trailing_day / baseline_scored AS baseline,
            greatest(0, sum(bucket_squares) OVER trailing_day / baseline_scored - baseline * baseline)
                AS baseline_variance
        FROM
        (
            SELECT
                toStartOfFifteenMinutes(ts) AS window, name, model, prompt_version,
                any(${scorer_floor}) AS floor,
                any(${scorer_direction}) AS direction,
                count() AS bucket_evaluated,
                countIf(multiIf(data_type = 'BOOLEAN', value = 1, data_type = 'NUMERIC',
                                ${scorer_numeric_passes}, label = 'pass')) AS bucket_passed,
                countIf(data_type = 'NUMERIC') AS bucket_scored,
                sumIf(value, data_type = 'NUMERIC') AS bucket_total,
                sumIf(value * value, data_type = 'NUMERIC') AS bucket_squares
            FROM ${database}.trace_scores
            -- the windows asked for, the rolling window before the first and the day before that
            WHERE ts >= toStartOfFifteenMinutes({since:DateTime64(6)}) - INTERVAL ${drift_baseline_seconds} SECOND
              AND (data_type IN ('BOOLEAN', 'NUMERIC') OR label IN ('pass', 'fail'))
            GROUP BY window, name, model, prompt_version
        )
        WINDOW
            rolling AS (PARTITION BY name, model, prompt_version ORDER BY window
                        RANGE BETWEEN ${drift_rolling_seconds} PRECEDING AND CURRENT ROW),
            trailing_day AS (PARTITION BY name, model, prompt_version ORDER BY window
                             RANGE BETWEEN ${drift_baseline_seconds} PRECEDING AND ${drift_baseline_near} PRECEDING)
    )
)
WHERE window >= toStartOfFifteenMinutes({since:DateTime64(6)})
ORDER BY window, name, model, prompt_version, alert;

-- Failed scores of the safety scorers (the scorers file's `safety`: ${safety_scorers}), latest value per
-- trace, span, name and source: what the LLMSafetyFailure alert pages about, with the traces to open.
-- SELECT * FROM safety_failures(since = '2026-11-22 10:00:00')
CREATE OR REPLACE VIEW ${database}.safety_failures AS
SELECT ts, trace_id, span_id, name, source, model, prompt_version, data_type, value, label, comment
FROM ${database}.trace_scores
WHERE ts >= {since:DateTime64(6)} AND has(${safety_scorers}, name)
  AND NOT multiIf(data_type = 'BOOLEAN', value = 1, data_type = 'NUMERIC', ${scorer_numeric_passes},
                  label != 'fail')
ORDER BY ts DESC;
