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
-- children; `failed` marks failures, `first_failure` the earliest of the innermost ones (a
-- failing span none of whose children failed: where the walk down the tree stops).
CREATE OR REPLACE VIEW ${database}.trace_spans AS
WITH RECURSIVE
    trace AS (
        SELECT span_id, parent_span_id, step, name, start, duration_ms, status, tool_name, service, model,
               error_id, error_class, root_cause_type, root_cause_message, failed
        FROM ${database}.steps
        WHERE trace_id = {trace_id:String}
        ORDER BY from_log, start
        LIMIT 1 BY span_id
    ),
    tree AS (
        SELECT *, toUInt32(0) AS depth, [toUnixTimestamp64Micro(start)] AS path
        FROM trace
        WHERE parent_span_id = '' OR parent_span_id NOT IN (SELECT span_id FROM trace)
        UNION ALL
        SELECT child.*, tree.depth + 1, arrayPushBack(tree.path, toUnixTimestamp64Micro(child.start))
        FROM trace AS child
        INNER JOIN tree ON child.parent_span_id = tree.span_id
        WHERE tree.depth < 256
    )
SELECT
    span_id, parent_span_id, depth, step, name, start, duration_ms, status, tool_name, service, model,
    failed, toUInt8(innermost AND start = min(if(innermost, start, toDateTime64('2299-12-31', 6, 'UTC'))) OVER ())
        AS first_failure,
    error_id, error_class, root_cause_type, root_cause_message
FROM
(
    SELECT *, failed AND span_id NOT IN (SELECT parent_span_id FROM trace WHERE failed) AS innermost
    FROM tree
)
ORDER BY path;

-- SELECT * FROM agent_loops(since = '...'): traces in which one tool was called with the same
-- arguments three times or more since then (openlit's threshold).
CREATE OR REPLACE VIEW ${database}.agent_loops AS
SELECT
    trace_id, tool_name, tool_args, count() AS calls, max(session_id) AS session_id, max(service) AS service,
    min(ts) AS first_call, max(ts) AS last_call
FROM
(
    SELECT trace_id, span_id, tool_name, tool_args, session_id, service, start AS ts
    FROM ${database}.steps
    WHERE start >= {since:DateTime64(6)} AND tool_name != ''
    ORDER BY from_log
    LIMIT 1 BY trace_id, span_id
)
GROUP BY trace_id, tool_name, tool_args
HAVING calls >= 3
ORDER BY calls DESC, last_call DESC;
