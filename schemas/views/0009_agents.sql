-- Agents: how their tools behave and what their sessions spend.

-- SELECT * FROM tool_call_health(since = '...'): per tool, every call since then (OpenTelemetry tool spans
-- and log lines' tool steps alike, each call once): how many failed, returned nothing, or were called with
-- arguments that are not a JSON object (malformed: the model wrote a call its tool cannot read); a call
-- succeeded when it did none of these. A usage row whose content check found a tool call that cannot run
-- (parsing_error/tool_call_malformed: arguments not a JSON object, a tool not declared, a required argument
-- missing) is one more malformed call, of the tool the check names ('' when the call named none); the
-- model asked for it, whether or not the application then ran it as a step.
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
    UNION ALL
    -- the failed check's detail names the tool: "tool NAME is not declared", "tool NAME: ..." (processing/content.py)
    SELECT trace_id, extract(failed_check.3, '^tool (.+?)(?:: | is not declared)'), 'malformed', ts, true
    FROM
    (
        SELECT trace_id, ts,
               arrayFirst(check -> check.1 = 'tool_call_malformed' AND NOT check.2,
                          JSONExtract(attributes['content_checks'], 'Array(Tuple(String, Bool, String))')) AS failed_check
        FROM ${database}.usage_metrics
        WHERE ts >= {since:DateTime64(6)} AND error_class = 'tool_call_malformed' AND attributes['content_failure'] != ''
        LIMIT 1 BY topic, partition, offset
    )
)
GROUP BY tool
ORDER BY calls DESC, tool;

-- SELECT * FROM session_costs(since = '...'): per session and user (a row without a session is its
-- user's), the cost of its calls (usage rows and LLM spans, `calls`) from then to now against its trailing average: what it spent in the
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
    -- every call once (`calls`: usage rows, and LLM spans with the cost their instrumentation gave); a call
    -- that names no session or user is its trace's, when another span of the trace names one (instrumentations
    -- put session.id / gen_ai.conversation.id on the agent's span, not on each of its LLM calls)
    SELECT ts, if(calls.session_id != '', calls.session_id, traces.trace_session) AS session_id,
           if(calls.user_id != '', calls.user_id, traces.trace_user) AS user_id, ifNull(cost_usd, 0) AS cost
    FROM ${database}.calls_since(since = history_start) AS calls
    LEFT JOIN
    (
        SELECT trace_id, max(session_id) AS trace_session, max(user_id) AS trace_user
        FROM ${database}.spans
        WHERE ts >= history_start - INTERVAL 1 DAY AND trace_id != '' AND (session_id != '' OR user_id != '')
        GROUP BY trace_id
    ) AS traces ON calls.trace_id = traces.trace_id
)
WHERE session_id != '' OR user_id != ''
GROUP BY session_id, user_id
HAVING calls > 0
ORDER BY alert = 'runaway' DESC, cost_usd DESC;
