-- Traces' steps, from the spans table (OpenTelemetry over Kafka) and from log lines that name a
-- step (`step`/`span_kind` or `tool_name`, with a `span_id`: structlog applications). A span
-- delivered twice (re-exported, or re-read after a crash) is one step: LIMIT 1 BY its trace and
-- span id; a span id given both ways is the OpenTelemetry span's (from_log = 0 first).

-- Every step: each span, and each span id of the log lines that name a step, folded into one
-- (a step's lines report it finished: its start is the earliest line's time less its duration_ms;
-- without any duration_ms, the step lasts from its first line to its last). Only idempotent
-- aggregates, so a line stored twice changes nothing.
CREATE OR REPLACE VIEW ${database}.steps AS
SELECT
    trace_id, span_id, parent_span_id, step, name, ts AS start, duration_ms, status, tool_name, tool_args,
    tool_status, service, model, session_id, error_id, error_class, root_cause_type, root_cause_message,
    toUInt8(error_id != '') AS failed, toUInt8(0) AS from_log
FROM ${database}.spans
UNION ALL
SELECT
    trace_id, span_id, max(parent_span_id), max(log_step), argMin(message, ts),
    min(subtractMicroseconds(ts, toInt64(ifNull(duration_ms, 0) * 1000))),
    ifNull(max(duration_ms), toFloat64(dateDiff('microsecond', min(ts), max(ts))) / 1000),
    if(max(line_failed), 'error', 'ok'), max(tool_name), max(tool_args),
    multiIf(max(line_failed) AND max(tool_name) != '', 'error', countIf(tool_status = 'empty') > 0, 'empty',
            max(tool_name) != '' OR max(log_step) = 'tool', 'ok', ''),
    max(service), max(model), max(attributes['session_id']), max(error_id), max(error_class),
    argMax(root_cause_type, root_cause_type != ''), argMax(root_cause_message, root_cause_message != ''),
    max(line_failed), toUInt8(1)
FROM
(
    SELECT *, if(step = '' AND tool_name != '', 'tool', step) AS log_step,
           error_id != '' OR tool_status = 'error' OR level IN ('error', 'critical', 'exception', 'fatal', 'alert', 'emergency') AS line_failed
    FROM ${database}.log_events
    WHERE span_id != '' AND (step != '' OR tool_name != '')
)
GROUP BY trace_id, span_id;


-- SELECT * FROM trace_spans(trace_id = '...'): the trace as a tree, each parent before its
-- children (siblings by start, then span id); `failed` marks failures, `first_failure` the
-- earliest of the innermost ones (a failing span none of whose children failed: where the walk
-- down the tree stops). The trace is read twice, not once per level: each span's ancestors are
-- found by following a map of parents (a recursive CTE re-read the spans at every level: three
-- times the cost at 10 million spans, 0.11 s against 0.04 s quiet; benchmarks/trace_queries.py).
CREATE OR REPLACE VIEW ${database}.trace_spans AS
WITH
    trace AS (
        SELECT span_id, parent_span_id, step, name, start, duration_ms, status, tool_name, service, model,
               error_id, error_class, root_cause_type, root_cause_message, failed
        FROM ${database}.steps
        WHERE trace_id = {trace_id:String}
        ORDER BY from_log, start
        LIMIT 1 BY span_id
    ),
    links AS (
        SELECT mapFromArrays(groupArray(span_id), groupArray(parent_span_id)) AS parent_of,
               mapFromArrays(groupArray(span_id), groupArray(start)) AS start_of,
               groupArrayIf(parent_span_id, failed = 1) AS failed_parents
        FROM trace
    )
SELECT
    span_id, parent_span_id, toUInt32(length(ancestry) - 1) AS depth, step, name, start, duration_ms, status,
    tool_name, service, model, failed,
    toUInt8(innermost AND start = min(if(innermost, start, toDateTime64('2299-12-31', 6, 'UTC'))) OVER ())
        AS first_failure,
    error_id, error_class, root_cause_type, root_cause_message
FROM
(
    SELECT
        trace.*,
        -- root first; a parent is followed while it is a span of this trace, at most 256 levels, never twice
        arrayFold((chain, level) -> if(mapContains(links.parent_of, links.parent_of[chain[1]])
                                       AND NOT has(chain, links.parent_of[chain[1]]),
                                       arrayPushFront(chain, links.parent_of[chain[1]]), chain),
                  range(256), [span_id]) AS ancestry,
        arrayMap(ancestor -> (links.start_of[ancestor], ancestor), ancestry) AS path,
        failed AND NOT has(links.failed_parents, span_id) AS innermost
    FROM trace CROSS JOIN links
)
ORDER BY path;

-- SELECT * FROM agent_loops(since = '...'): traces in which one tool was called with the same
-- arguments three times or more since then (openlit's threshold), as spans or as log steps. The
-- window's calls are first counted by their number `tool_call` (a hash of trace, tool and arguments
-- stored at insert: 0010_spans_index.sql for spans, 0011_calls_and_steps.sql for log lines); only the
-- few keys seen three times are read whole, and a span delivered twice, or given both as a span and
-- as log lines, counts once (uniqExact of its id).
CREATE OR REPLACE VIEW ${database}.agent_loops AS
WITH tool_calls AS (
    SELECT tool_call, trace_id, span_id, tool_name, tool_args, session_id, service, ts
    FROM ${database}.spans
    WHERE ts >= {since:DateTime64(6)} AND tool_call != 0
    UNION ALL
    -- structlog applications' tool steps: their lines carry the same number (0011_calls_and_steps.sql)
    SELECT tool_call, trace_id, span_id, tool_name, tool_args, attributes['session_id'], service, ts
    FROM ${database}.log_events
    WHERE ts >= {since:DateTime64(6)} AND tool_call != 0 AND span_id != ''
)
SELECT trace_id, tool_name, tool_args, calls, session_id, service, first_call, last_call
FROM
(
    SELECT
        any(trace_id) AS trace_id, any(tool_name) AS tool_name, any(tool_args) AS tool_args,
        uniqExact(span_id) AS calls, max(session_id) AS session_id, max(service) AS service,
        min(ts) AS first_call, max(ts) AS last_call
    FROM tool_calls
    WHERE tool_call IN (SELECT tool_call FROM tool_calls GROUP BY tool_call HAVING count() >= 3)
    GROUP BY tool_call
    HAVING calls >= 3
)
ORDER BY calls DESC, last_call DESC;
