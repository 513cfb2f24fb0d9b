-- Agents: how their tools behave and what their sessions spend.

-- SELECT * FROM tool_call_health(since = '...'): per tool, every call since then (OpenTelemetry tool spans
-- and log lines' tool steps alike, each call once): how many failed, returned nothing, or were called with
-- arguments that are not a JSON object (malformed: the model wrote a call its tool cannot read); a call
-- succeeded when it did none of these.
CREATE OR REPLACE VIEW ${database}.tool_call_health AS
SELECT
    tool AS tool_name,
    count() AS calls,
    countIf(outcome = 'error') AS errors,
    countIf(outcome = 'empty') AS empty_results,
    countIf(malformed) AS malformed_calls,
    countIf(outcome NOT IN ('error', 'empty') AND NOT malformed) / calls AS success_rate,
    uniqExact(trace_id) AS traces,
    max(start) AS last_call
FROM
(
    SELECT
        trace_id, if(tool_name != '', tool_name, name) AS tool, if(failed, 'error', tool_status) AS outcome,
        start, tool_args != '' AND NOT (isValidJSON(tool_args) AND JSONType(tool_args) = 'Object') AS malformed
    FROM ${database}.steps
    WHERE start >= {since:DateTime64(6)} AND (tool_name != '' OR step = 'tool')
    ORDER BY from_log
    LIMIT 1 BY trace_id, span_id
)
GROUP BY tool
ORDER BY calls DESC, tool;

-- SELECT * FROM session_costs(since = '...'): per session and user (a row without a session is its
-- user's), the cost of its calls from then to now against its trailing average: what it spent in the
-- 7 days before the window, scaled to the window's length. Above three times that average the session
-- is a `runaway`; a session with no calls in those 7 days has nothing to compare with, so its alert is
-- `no_history` (never `runaway`), and it is judged once it has history.
CREATE OR REPLACE VIEW ${database}.session_costs AS
WITH
    toDateTime64({since:DateTime64(6)}, 6, 'UTC') AS window_start,
    window_start - INTERVAL 7 DAY AS history_start,
    greatest(dateDiff('microsecond', window_start, now64(6)), 1) / 1e6 AS window_seconds
SELECT
    session_id,
    user_id,
    countIf(ts >= window_start) AS calls,
    sumIf(cost, ts >= window_start) AS cost_usd,
    sumIf(cost, ts < window_start) AS trailing_7d_cost_usd,
    countIf(ts < window_start) AS trailing_7d_calls,
    if(trailing_7d_calls = 0, NULL, trailing_7d_cost_usd / (7 * 86400) * window_seconds) AS trailing_average_usd,
    multiIf(trailing_7d_calls = 0, 'no_history', cost_usd > 3 * trailing_average_usd, 'runaway', '') AS alert,
    max(ts) AS last_call
FROM
(
    SELECT ts, session_id, user_id, cost_usd AS cost
    FROM ${database}.usage_metrics
    WHERE ts >= history_start AND (session_id != '' OR user_id != '')
    LIMIT 1 BY topic, partition, offset
)
GROUP BY session_id, user_id
HAVING calls > 0
ORDER BY alert = 'runaway' DESC, cost_usd DESC;
