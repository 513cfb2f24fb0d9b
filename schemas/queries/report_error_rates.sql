-- report: error rate by final class over time: failures of a class / all calls, per 5-minute window.
SELECT failures.window AS window, failures.error_class AS error_class, failures.errors / calls.calls AS error_rate
FROM
(
    SELECT toStartOfFiveMinutes(called_at) AS window, error_class, count() AS errors
    FROM ${database}.errors_window(since = {since:DateTime64(6)}, until = '2299-12-31 00:00:00')
    WHERE has_metrics AND called_at >= {since:DateTime64(6)}
    GROUP BY window, error_class
    UNION ALL
    -- a failed LLM span no usage row reports: a call of `calls` too
    SELECT toStartOfFiveMinutes(first_seen) AS window, error_class, count() AS errors
    FROM ${database}.errors_window(since = {since:DateTime64(6)}, until = '2299-12-31 00:00:00')
    WHERE NOT has_metrics
      AND error_id IN (SELECT error_id FROM ${database}.span_calls_since(since = {since:DateTime64(6)})
                       WHERE NOT success)
    GROUP BY window, error_class
) AS failures
INNER JOIN
(
    SELECT toStartOfFiveMinutes(ts) AS window, count() AS calls
    FROM ${database}.calls_since(since = {since:DateTime64(6)})
    GROUP BY window
) AS calls USING (window)
ORDER BY window, error_class
